namespace Flame.Wire;

// Executors and nodes: executors, node addresses, node statuses, nodes and their lists.
public static partial class WireMapping
{
    /// <summary>The wire form of an executor: metadata id and name are both the executor id.</summary>
    public static V1.Executor ToWire(this ExecutorInfo executor)
    {
        ArgumentNullException.ThrowIfNull(executor);
        var id = executor.Id ?? "";
        var status = new V1.ExecutorStatus { State = executor.State.ToWire() };
        if (executor.SessionId is not null) status.SessionId = executor.SessionId;
        return new V1.Executor
        {
            Metadata = new V1.Metadata { Id = id, Name = id },
            Spec = new V1.ExecutorSpec
            {
                Node = executor.Node ?? "",
                Resreq = (executor.ResReq ?? new ResourceRequirement()).ToWire(),
                Shim = executor.Shim.ToWire(),
            },
            Status = status,
        };
    }

    /// <summary>The domain form of an executor.</summary>
    public static ExecutorInfo ToDomain(this V1.Executor executor)
    {
        ArgumentNullException.ThrowIfNull(executor);
        var status = executor.Status;
        return new ExecutorInfo
        {
            Id = IdOf(executor.Metadata),
            Node = executor.Spec?.Node ?? "",
            ResReq = executor.Spec?.Resreq?.ToDomain() ?? new ResourceRequirement(),
            Shim = executor.Spec?.Shim.ToDomain() ?? Shim.Host,
            State = status?.State.ToDomain() ?? ExecutorState.Unknown,
            SessionId = status is { HasSessionId: true } ? status.SessionId : null,
        };
    }

    /// <summary>The wire list of <paramref name="executors"/>, in their order.</summary>
    public static V1.ExecutorList ToWire(this IEnumerable<ExecutorInfo> executors)
    {
        ArgumentNullException.ThrowIfNull(executors);
        var list = new V1.ExecutorList();
        foreach (var executor in executors)
            list.Executors.Add(executor.ToWire());
        return list;
    }

    /// <summary>The wire form of a node address.</summary>
    public static V1.NodeAddress ToWire(this NodeAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new V1.NodeAddress { Type = address.Type ?? "", Address = address.Address ?? "" };
    }

    /// <summary>The domain form of a node address.</summary>
    public static NodeAddress ToDomain(this V1.NodeAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new NodeAddress { Type = address.Type, Address = address.Address };
    }

    /// <summary>The wire status of a node (what a heartbeat carries).</summary>
    public static V1.NodeStatus ToWireStatus(this NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var status = new V1.NodeStatus
        {
            State = node.State.ToWire(),
            Capacity = (node.Capacity ?? new ResourceRequirement()).ToWire(),
            Allocatable = (node.Allocatable ?? new ResourceRequirement()).ToWire(),
            Info = new V1.NodeInfo { Arch = node.Arch ?? "", Os = node.Os ?? "" },
            LastHeartbeatTime = node.LastHeartbeatTime,
        };
        foreach (var address in node.Addresses)
            status.Addresses.Add(address.ToWire());
        return status;
    }

    /// <summary>The wire form of a node: metadata id and name are both the node's name.</summary>
    public static V1.Node ToWire(this NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var name = node.Name ?? "";
        var spec = new V1.NodeSpec { Hostname = node.Hostname ?? "" };
        foreach (var shim in node.Shims ?? [])
            spec.Shims.Add(shim.ToWire());
        return new V1.Node
        {
            Metadata = new V1.Metadata { Id = name, Name = name },
            Spec = spec,
            Status = node.ToWireStatus(),
        };
    }

    /// <summary>The domain form of a node.</summary>
    public static NodeInfo ToDomain(this V1.Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return (node.Status ?? new V1.NodeStatus()).ToDomain(NameOf(node.Metadata), node.Spec?.Hostname ?? "") with
        {
            Shims = node.Spec is { } spec ? Map(spec.Shims, static s => s.ToDomain()) : [],
        };
    }

    /// <summary>The domain form of a node's status (e.g. from a heartbeat), with its name and host name given.</summary>
    public static NodeInfo ToDomain(this V1.NodeStatus status, string name, string hostname)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new NodeInfo
        {
            Name = name ?? "",
            Hostname = hostname ?? "",
            State = status.State.ToDomain(),
            Capacity = status.Capacity?.ToDomain() ?? new ResourceRequirement(),
            Allocatable = status.Allocatable?.ToDomain() ?? new ResourceRequirement(),
            Arch = status.Info?.Arch ?? "",
            Os = status.Info?.Os ?? "",
            Addresses = Map(status.Addresses, static a => a.ToDomain()),
            LastHeartbeatTime = status.LastHeartbeatTime,
        };
    }

    /// <summary>The wire list of <paramref name="nodes"/>, in their order.</summary>
    public static V1.NodeList ToWire(this IEnumerable<NodeInfo> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var list = new V1.NodeList();
        foreach (var node in nodes)
            list.Nodes.Add(node.ToWire());
        return list;
    }
}
