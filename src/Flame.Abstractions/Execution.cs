namespace Flame;

/// <summary>What a service returned for a task (or what the executor manager reports in its place).</summary>
[GenerateSerializer, Immutable, Alias("flame.TaskResultInfo")]
public sealed record TaskResultInfo
{
    /// <summary>0 = success; anything else is a failure described by <see cref="Message"/>.</summary>
    [Id(0)] public int ReturnCode { get; init; }
    /// <summary>The service's output bytes.</summary>
    [Id(1)] public byte[]? Output { get; init; }
    /// <summary>The failure text, for people.</summary>
    [Id(2)] public string? Message { get; init; }
    /// <summary>The task the result is for; 0 = the executor's running task (flame.v1's CompleteTask names none).</summary>
    [Id(3)] public long TaskId { get; init; }
    /// <summary>The <see cref="TaskInfo.Launch"/> the task came with; 0 = not checked.</summary>
    [Id(4)] public long Launch { get; init; }
    /// <summary>
    /// True when the executor manager reports a failure of the system in the service's place (the service process died,
    /// could not be reached, or was killed at its timeout): the task gets another attempt. False for the service's own
    /// error result, which fails the task at once (as Flame).
    /// </summary>
    [Id(5)] public bool SystemFailure { get; init; }
}

/// <summary>What an executor needs to enter a session: the application to start and the session with its common data.</summary>
[GenerateSerializer, Immutable, Alias("flame.SessionBinding")]
public sealed record SessionBinding
{
    /// <summary>The application, as it was when the session was created.</summary>
    [Id(0)] public required ApplicationInfo Application { get; init; }
    /// <summary>The session, with its spec (and common data).</summary>
    [Id(1)] public required SessionInfo Session { get; init; }
    /// <summary>
    /// Whether the executor manager may keep the service process after this session for the next session of the same
    /// application (the application's label <see cref="ApplicationLabels.ReuseServices"/>, or the cluster's
    /// <c>Flame:Execution:ReuseServices</c>). False by default, as in Flame: a fresh process per session.
    /// </summary>
    [Id(2)] public bool ReuseService { get; init; }
}

/// <summary>The answer to one long-poll of an executor: something to do, keep waiting, or stop.</summary>
/// <remarks>
/// Grain calls time out (Orleans' response timeout), so a long wait is made of several polls;
/// <see cref="KeepWaiting"/> says that the wait is not over yet and the caller should ask again.
/// </remarks>
[GenerateSerializer, Immutable, Alias("flame.PollResult`1")]
public sealed record PollResult<T> where T : class
{
    /// <summary>The item, when there is one.</summary>
    [Id(0)] public T? Item { get; init; }
    /// <summary>True when there is nothing yet but the wait goes on: poll again.</summary>
    [Id(1)] public bool KeepWaiting { get; init; }

    /// <summary>Something to do.</summary>
    public static PollResult<T> Of(T item) => new() { Item = item };
    /// <summary>Nothing yet; poll again.</summary>
    public static PollResult<T> Wait { get; } = new() { KeepWaiting = true };
    /// <summary>Nothing, and the wait is over.</summary>
    public static PollResult<T> Done { get; } = new();
}

/// <summary>What the scheduler needs to know of a session.</summary>
[GenerateSerializer, Immutable, Alias("flame.SessionDemand")]
public sealed record SessionDemand
{
    /// <summary>The session.</summary>
    [Id(0)] public required string SessionId { get; init; }
    /// <summary>Its application.</summary>
    [Id(1)] public required string Application { get; init; }
    /// <summary>Tasks waiting.</summary>
    [Id(2)] public int Pending { get; init; }
    /// <summary>Tasks running.</summary>
    [Id(3)] public int Running { get; init; }
    /// <summary>Executors to keep while open.</summary>
    [Id(4)] public uint MinInstances { get; init; }
    /// <summary>Most executors: the smaller of the session's and the application's caps; null = no cap.</summary>
    [Id(5)] public uint? MaxInstances { get; init; }
    /// <summary>Higher first.</summary>
    [Id(6)] public uint Priority { get; init; }
    /// <summary>Open sessions get new executors; closed ones only finish their running tasks.</summary>
    [Id(7)] public bool Open { get; init; }
    /// <summary>The session is gone (deleted, or idle and out of memory until something needs it): forget it.</summary>
    [Id(8)] public bool Deleted { get; init; }
    /// <summary>What one executor of it needs.</summary>
    [Id(9)] public ResourceRequirement? ResReq { get; init; }
    /// <summary>How its application's service runs: its executors go only to nodes that run this shim.</summary>
    [Id(10)] public Shim Shim { get; init; }
}
