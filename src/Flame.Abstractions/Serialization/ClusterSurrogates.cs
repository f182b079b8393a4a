namespace Flame.Serialization;

// How Orleans serializes the executor and node records of Flame.Model; see SessionSurrogates.cs.

/// <summary>The Orleans form of <see cref="ExecutorInfo"/>.</summary>
[GenerateSerializer, Alias("flame.ExecutorInfo.Surrogate")]
public struct ExecutorInfoSurrogate
{
    [Id(0)] public string Id;
    [Id(1)] public string Node;
    [Id(2)] public ResourceRequirement ResReq;
    [Id(3)] public Shim Shim;
    [Id(4)] public ExecutorState State;
    [Id(5)] public string? SessionId;
    [Id(6)] public long? BoundAt;
    [Id(7)] public string? Application;
}

/// <summary>Converts and copies <see cref="ExecutorInfo"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class ExecutorInfoConverter : ImmutableCopier<ExecutorInfo>, IConverter<ExecutorInfo, ExecutorInfoSurrogate>
{
    /// <inheritdoc />
    public ExecutorInfo ConvertFromSurrogate(in ExecutorInfoSurrogate s) => new()
    {
        Id = s.Id,
        Node = s.Node,
        ResReq = s.ResReq ?? new(),
        Shim = s.Shim,
        State = s.State,
        SessionId = s.SessionId,
        BoundAt = s.BoundAt,
        Application = s.Application,
    };

    /// <inheritdoc />
    public ExecutorInfoSurrogate ConvertToSurrogate(in ExecutorInfo v) => new()
    {
        Id = v.Id,
        Node = v.Node,
        ResReq = v.ResReq,
        Shim = v.Shim,
        State = v.State,
        SessionId = v.SessionId,
        BoundAt = v.BoundAt,
        Application = v.Application,
    };
}

/// <summary>The Orleans form of <see cref="NodeAddress"/>.</summary>
[GenerateSerializer, Alias("flame.NodeAddress.Surrogate")]
public struct NodeAddressSurrogate
{
    [Id(0)] public string Type;
    [Id(1)] public string Address;
}

/// <summary>Converts and copies <see cref="NodeAddress"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class NodeAddressConverter : ImmutableCopier<NodeAddress>, IConverter<NodeAddress, NodeAddressSurrogate>
{
    /// <inheritdoc />
    public NodeAddress ConvertFromSurrogate(in NodeAddressSurrogate s) => new() { Type = s.Type, Address = s.Address };

    /// <inheritdoc />
    public NodeAddressSurrogate ConvertToSurrogate(in NodeAddress v) => new() { Type = v.Type, Address = v.Address };
}

/// <summary>The Orleans form of <see cref="NodeInfo"/>.</summary>
[GenerateSerializer, Alias("flame.NodeInfo.Surrogate")]
public struct NodeInfoSurrogate
{
    [Id(0)] public string Name;
    [Id(1)] public string Hostname;
    [Id(2)] public NodeState State;
    [Id(3)] public ResourceRequirement Capacity;
    [Id(4)] public ResourceRequirement Allocatable;
    [Id(5)] public string Arch;
    [Id(6)] public string Os;
    [Id(7)] public IReadOnlyList<NodeAddress> Addresses;
    [Id(8)] public long LastHeartbeatTime;
    [Id(9)] public IReadOnlyList<Shim> Shims;
}

/// <summary>Converts and copies <see cref="NodeInfo"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class NodeInfoConverter : ImmutableCopier<NodeInfo>, IConverter<NodeInfo, NodeInfoSurrogate>
{
    /// <inheritdoc />
    public NodeInfo ConvertFromSurrogate(in NodeInfoSurrogate s) => new()
    {
        Name = s.Name,
        Hostname = s.Hostname ?? "",
        State = s.State,
        Capacity = s.Capacity ?? new(),
        Allocatable = s.Allocatable ?? new(),
        Arch = s.Arch ?? "",
        Os = s.Os ?? "",
        Addresses = s.Addresses ?? [],
        LastHeartbeatTime = s.LastHeartbeatTime,
        Shims = s.Shims ?? [],
    };

    /// <inheritdoc />
    public NodeInfoSurrogate ConvertToSurrogate(in NodeInfo v) => new()
    {
        Name = v.Name,
        Hostname = v.Hostname,
        State = v.State,
        Capacity = v.Capacity,
        Allocatable = v.Allocatable,
        Arch = v.Arch,
        Os = v.Os,
        Addresses = v.Addresses,
        LastHeartbeatTime = v.LastHeartbeatTime,
        Shims = v.Shims,
    };
}
