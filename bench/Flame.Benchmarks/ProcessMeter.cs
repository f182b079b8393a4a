using System.Diagnostics;

namespace Flame.Benchmarks;

/// <summary>CPU time, GC counts and allocations of this process between two points, plus one other process's CPU.</summary>
internal sealed class ProcessMeter
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly long _allocated = GC.GetTotalAllocatedBytes(precise: false);
    private readonly int _gen0 = GC.CollectionCount(0);
    private readonly int _gen1 = GC.CollectionCount(1);
    private readonly int _gen2 = GC.CollectionCount(2);
    private readonly Process? _other;
    private readonly TimeSpan _otherCpu;

    public ProcessMeter(int? otherPid = null)
    {
        if (otherPid is { } pid)
        {
            _other = Process.GetProcessById(pid);
            _otherCpu = _other.TotalProcessorTime;
        }
    }

    public Reading Read()
    {
        var elapsed = Stopwatch.GetElapsedTime(_start);
        TimeSpan? otherCpu = null;
        if (_other is not null)
        {
            _other.Refresh();
            otherCpu = _other.TotalProcessorTime - _otherCpu;
        }
        return new Reading(
            elapsed,
            Process.GetCurrentProcess().TotalProcessorTime - _cpu,
            otherCpu,
            GC.GetTotalAllocatedBytes(precise: false) - _allocated,
            GC.CollectionCount(0) - _gen0,
            GC.CollectionCount(1) - _gen1,
            GC.CollectionCount(2) - _gen2);
    }

    public sealed record Reading(TimeSpan Elapsed, TimeSpan Cpu, TimeSpan? OtherCpu, long Allocated, int Gen0, int Gen1, int Gen2)
    {
        /// <summary>CPU used as a share of all cores over the elapsed time, in percent.</summary>
        public double CpuPercentOfMachine(TimeSpan cpu) => 100.0 * cpu.TotalSeconds / (Elapsed.TotalSeconds * Environment.ProcessorCount);
    }
}

/// <summary>Live heap after full, compacting, blocking collections.</summary>
internal static class Heap
{
    public static long SettledBytes()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    public static long WorkingSetBytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }
}
