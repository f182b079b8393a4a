using System.Diagnostics;
using Flame.Grains;
using Flame.Grains.Sessions;

namespace Flame.Benchmarks;

/// <summary>
/// Memory per pending task: N pending tasks in one session of an in-process silo, measured as the growth of
/// the live heap (after full compacting collections) divided by N; then the same for a bare <see cref="TaskTable"/>,
/// so that what the grain adds to the table is visible.
/// </summary>
internal static class MemoryBenchmark
{
    public static async Task<BenchmarkResult> RunAsync(MemoryOptions o)
    {
        Report.Title($"memory: {o.Tasks} pending tasks in one session, input {o.InputBytes} bytes");
        await using var host = await HostedSessionManager.StartAsync();
        Report.Text("server", $"in-process silo (session manager at {host.Endpoint})");
        Report.Figure("input per task", o.InputBytes, o.InputBytes == 0 ? "bytes (no input: null)" : "bytes (a fresh array per task)");

        var flame = host.Client;
        var application = "bench-" + Guid.NewGuid().ToString("N")[..8];
        await flame.RegisterApplicationAsync(application, new ApplicationSpec { Command = "/bin/true", Description = "Flame.Benchmarks memory" });
        var spec = new SessionSpec { Application = application };

        // JIT and Orleans warm-up in a session that is deleted before measuring.
        var warm = await flame.CreateSessionAsync(null, spec);
        await CreateTasksAsync(host.Grains.GetGrain<ISessionGrain>(warm.Id), o.Warmup, o.InputBytes, o.Concurrency);
        await flame.CloseSessionAsync(warm.Id);
        await flame.DeleteSessionAsync(warm.Id);
        Report.Figure("warm-up tasks (separate session, deleted)", o.Warmup, "");

        var session = await flame.CreateSessionAsync(null, spec);
        var grain = host.Grains.GetGrain<ISessionGrain>(session.Id);
        await grain.GetAsync();

        var sampler = o.AllocTypes > 0 ? new AllocationSampler() : null;
        var heapBefore = Heap.SettledBytes();
        sampler?.Start();
        var meter = new ProcessMeter();
        await CreateTasksAsync(grain, o.Tasks, o.InputBytes, o.Concurrency);
        var fill = meter.Read();
        sampler?.Stop();
        // Its counts live on the heap too: read them now, drop them before the heap is read.
        var sampled = sampler?.Top(o.AllocTypes);
        sampler?.Dispose();
        var heapAfter = Heap.SettledBytes();
        var workingSet = Heap.WorkingSetBytes();
        var status = (await grain.GetAsync()).Status;

        var grainBytesPerTask = (double)(heapAfter - heapBefore) / o.Tasks;
        var grainThroughput = o.Tasks / fill.Elapsed.TotalSeconds;
        Report.Text("session", session.Id);
        Report.Figure("pending tasks", status.Pending, "");
        Report.Figure("grain-level CreateTask throughput", grainThroughput, $"tasks/s (ISessionGrain.CreateTaskAsync, {o.Concurrency} in flight)");
        Report.Figure("fill time", fill.Elapsed.TotalSeconds, "s", 3);
        Report.Figure("CPU per task while filling", fill.Cpu.TotalMicroseconds / o.Tasks, "µs", 2);
        Report.Figure("allocated per task while filling", (double)fill.Allocated / o.Tasks, "bytes");
        Report.Text("GCs while filling (gen0/gen1/gen2)", $"{fill.Gen0}/{fill.Gen1}/{fill.Gen2}");
        if (sampled is not null)
        {
            Report.Text("allocations by type while filling (sampled)", "bytes per task, share");
            foreach (var (type, bytes, share) in sampled)
                Report.Text("", $"{Report.Format((double)bytes / o.Tasks, 0),8} B  {Report.Format(share * 100, 1),5} %  {type}");
        }
        Report.Figure("live heap before", heapBefore / (1024.0 * 1024.0), "MiB", 1);
        Report.Figure("live heap after", heapAfter / (1024.0 * 1024.0), "MiB", 1);
        Report.Figure("bytes per pending task, session grain", grainBytesPerTask, "bytes", 1);
        Report.Figure("working set of the process", workingSet / (1024.0 * 1024.0), "MiB", 1);

        // The bare table, in the same process: the grain's tasks stay alive and are part of both readings.
        var tableBefore = Heap.SettledBytes();
        var started = Stopwatch.GetTimestamp();
        var table = new TaskTable();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0L; i < o.Tasks; i++)
            table.Add(o.InputBytes > 0 ? new byte[o.InputBytes] : null, now);
        var tableElapsed = Stopwatch.GetElapsedTime(started);
        var tableAfter = Heap.SettledBytes();
        var tableCount = table.CountOf(TaskState.Pending);
        GC.KeepAlive(table);
        var tableBytesPerTask = (double)(tableAfter - tableBefore) / o.Tasks;
        Report.Figure("bytes per pending task, bare TaskTable", tableBytesPerTask, "bytes", 1);
        Report.Figure("grain overhead over the table", grainBytesPerTask - tableBytesPerTask, "bytes per task", 1);
        Report.Figure("TaskTable.Add throughput (single thread)", o.Tasks / tableElapsed.TotalSeconds, "tasks/s");
        Report.Figure("working set with both", Heap.WorkingSetBytes() / (1024.0 * 1024.0), "MiB", 1);

        var ok = status.Pending == o.Tasks && tableCount == o.Tasks;
        Report.Text("check: pending = tasks",
            ok ? $"OK ({status.Pending})" : $"MISMATCH: grain {status.Pending}, table {tableCount}, expected {o.Tasks}");

        return new BenchmarkResult(ok ? 0 : 1,
            $"{Report.Format(grainBytesPerTask, 1)} B/task in the grain, {Report.Format(tableBytesPerTask, 1)} B/task bare table, " +
            $"working set {Report.Mb(workingSet)} MiB, grain-level {Report.Format(grainThroughput)} tasks/s" +
            (ok ? "" : ", PENDING MISMATCH"));
    }

    /// <summary>Creates <paramref name="count"/> tasks with <paramref name="concurrency"/> grain calls in flight.</summary>
    private static async Task CreateTasksAsync(ISessionGrain grain, long count, int inputBytes, int concurrency)
    {
        var next = -1L;
        var loops = new Task[concurrency];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) < count)
                    await grain.CreateTaskAsync(inputBytes > 0 ? new byte[inputBytes] : null).ConfigureAwait(false);
            });
        }
        await Task.WhenAll(loops);
    }
}
