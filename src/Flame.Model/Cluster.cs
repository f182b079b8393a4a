namespace Flame;

/// <summary>The executor lifecycle (server view); the numbers are the wire values.</summary>
public enum ExecutorState
{
    /// <summary>Not known.</summary>
    Unknown = 0,
    /// <summary>Asked for, not yet registered.</summary>
    Void = 1,
    /// <summary>Registered, not bound.</summary>
    Idle = 2,
    /// <summary>Given a session; the service is starting and entering it.</summary>
    Binding = 3,
    /// <summary>Pulling tasks.</summary>
    Bound = 4,
    /// <summary>Leaving its session.</summary>
    Unbinding = 5,
    /// <summary>Being released.</summary>
    Releasing = 6,
    /// <summary>Gone.</summary>
    Released = 7,
}

/// <summary>Whether a node is healthy.</summary>
public enum NodeState
{
    /// <summary>Not known.</summary>
    Unknown = 0,
    /// <summary>Heartbeating.</summary>
    Ready = 1,
    /// <summary>Heartbeats stopped.</summary>
    NotReady = 2,
}

/// <summary>One executor: a slot of an executor manager.</summary>
public sealed record ExecutorInfo
{
    /// <summary>The executor id.</summary>
    public required string Id { get; init; }
    /// <summary>The node it runs on.</summary>
    public required string Node { get; init; }
    /// <summary>Resources it holds.</summary>
    public ResourceRequirement ResReq { get; init; } = new();
    /// <summary>How it runs services.</summary>
    public Shim Shim { get; init; }
    /// <summary>Where it is in its lifecycle.</summary>
    public ExecutorState State { get; init; }
    /// <summary>The session it is bound to, if any.</summary>
    public string? SessionId { get; init; }
    /// <summary>Unix epoch milliseconds when it was given its current session; null when it has none (or it is not known).</summary>
    public long? BoundAt { get; init; }
    /// <summary>
    /// The application of the session it serves or last served, while its service may still run: set only for an
    /// application whose services are reused (<c>SessionBinding.ReuseService</c>), null after a failed binding
    /// or a new registration. An idle executor goes first to a session of that application, whose executor manager
    /// then reuses the running service instead of starting one.
    /// </summary>
    public string? Application { get; init; }
}

/// <summary>A node address, as the node reports it.</summary>
public sealed record NodeAddress
{
    /// <summary>e.g. InternalIP, Hostname.</summary>
    public required string Type { get; init; }
    /// <summary>The address.</summary>
    public required string Address { get; init; }
}

/// <summary>A node running an executor manager.</summary>
public sealed record NodeInfo
{
    /// <summary>The node's name.</summary>
    public required string Name { get; init; }
    /// <summary>Its host name.</summary>
    public string Hostname { get; init; } = "";
    /// <summary>Health.</summary>
    public NodeState State { get; init; }
    /// <summary>What the machine has.</summary>
    public ResourceRequirement Capacity { get; init; } = new();
    /// <summary>What executors may use.</summary>
    public ResourceRequirement Allocatable { get; init; } = new();
    /// <summary>CPU architecture.</summary>
    public string Arch { get; init; } = "";
    /// <summary>Operating system.</summary>
    public string Os { get; init; } = "";
    /// <summary>Addresses.</summary>
    public IReadOnlyList<NodeAddress> Addresses { get; init; } = [];
    /// <summary>Unix epoch milliseconds of the last heartbeat.</summary>
    public long LastHeartbeatTime { get; init; }
    /// <summary>
    /// The shims its executor manager runs; empty = <see cref="Shim.Host"/> only (a Flame executor manager names
    /// none). An application's executors are placed only on nodes that run its shim.
    /// </summary>
    public IReadOnlyList<Shim> Shims { get; init; } = [];

    /// <summary>Whether the node runs services of <paramref name="shim"/>.</summary>
    public bool Runs(Shim shim) => Shims.Count == 0 ? shim == Shim.Host : Shims.Contains(shim);
}
