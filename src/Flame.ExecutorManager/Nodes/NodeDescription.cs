using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Flame.ExecutorManager.Hosting;

namespace Flame.ExecutorManager.Nodes;

/// <summary>What this node tells the gateway about itself in RegisterNode and in every heartbeat.</summary>
internal sealed class NodeDescription
{
    public NodeDescription(FlameExecutorManagerOptions options)
        : this(options.EffectiveNodeName, Dns.GetHostName(), options.EffectiveSlots, Environment.ProcessorCount, ReadTotalMemory())
    {
    }

    internal NodeDescription(string name, string hostname, int slots, int cores, ulong memoryBytes)
    {
        Name = name;
        Hostname = hostname;
        Slots = slots;
        Cores = (ulong)cores;
        MemoryBytes = memoryBytes;
        Arch = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
    }

    /// <summary>The node's name: its id and name on the wire.</summary>
    public string Name { get; }

    /// <summary>The machine's host name.</summary>
    public string Hostname { get; }

    /// <summary>How many executors run at once.</summary>
    public int Slots { get; }

    /// <summary>Capacity in cores, as Flame: the number of logical CPUs.</summary>
    public ulong Cores { get; }

    /// <summary>Total memory in bytes.</summary>
    public ulong MemoryBytes { get; }

    /// <summary>The processor architecture, lower case (<c>x64</c>, <c>arm64</c>).</summary>
    public string Arch { get; }

    /// <summary>The node as registered: <c>metadata{id = name}</c>, <c>spec{hostname, shims = [Host]}</c>, and its status.</summary>
    public V1.Node CreateNode(long nowMilliseconds) => new()
    {
        Metadata = new V1.Metadata { Id = Name, Name = Name },
        // Host only (ServiceLaunch refuses any other shim): named, so that the gateway never places other shims here.
        Spec = new V1.NodeSpec { Hostname = Hostname, Shims = { V1.Shim.Host } },
        Status = CreateStatus(nowMilliseconds),
    };

    /// <summary>
    /// The node's status: Ready; capacity = all cores and memory; allocatable = one core per slot and all memory.
    /// </summary>
    public V1.NodeStatus CreateStatus(long nowMilliseconds) => new()
    {
        State = V1.NodeState.Ready,
        Capacity = new V1.ResourceRequirement { Cpu = Cores, Memory = MemoryBytes },
        Allocatable = new V1.ResourceRequirement { Cpu = (ulong)Slots, Memory = MemoryBytes },
        Info = new V1.NodeInfo { Arch = Arch, Os = "linux" },
        Addresses = { new V1.NodeAddress { Type = "Hostname", Address = Hostname } },
        LastHeartbeatTime = nowMilliseconds,
    };

    /// <summary>MemTotal from /proc/meminfo; where there is none, what the runtime sees as available.</summary>
    internal static ulong ReadTotalMemory()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (ParseMemTotal(line) is { } bytes)
                    return bytes;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return (ulong)Math.Max(0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    /// <summary>The bytes of a <c>MemTotal:   24576000 kB</c> line, or null for any other line.</summary>
    internal static ulong? ParseMemTotal(string line)
    {
        if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
            return null;
        var parts = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            return null;
        return parts.Length > 1 && parts[1] == "kB" ? value * 1024 : value;
    }
}
