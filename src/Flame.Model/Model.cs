namespace Flame;

/// <summary>Whether a session accepts new tasks.</summary>
public enum SessionState
{
    /// <summary>Accepting tasks.</summary>
    Open = 0,
    /// <summary>No more tasks accepted; pending ones were cancelled.</summary>
    Closed = 1,
}

/// <summary>The life of a task; the numbers are the wire values and the event codes.</summary>
public enum TaskState
{
    /// <summary>Queued, waiting for an executor.</summary>
    Pending = 0,
    /// <summary>Handed to an executor.</summary>
    Running = 1,
    /// <summary>The service returned 0.</summary>
    Succeed = 2,
    /// <summary>The service returned an error, or every attempt failed.</summary>
    Failed = 3,
    /// <summary>Cancelled before it ran (its session was closed).</summary>
    Cancelled = 4,
}

/// <summary>Whether new sessions may be opened for an application.</summary>
public enum ApplicationState
{
    /// <summary>Sessions may be created.</summary>
    Enabled = 0,
    /// <summary>New sessions are refused.</summary>
    Disabled = 1,
}

/// <summary>How an executor manager runs a service.</summary>
public enum Shim
{
    /// <summary>A host process started from the application's command.</summary>
    Host = 0,
    /// <summary>A WebAssembly module (reserved by the protocol).</summary>
    Wasm = 1,
}

/// <summary>Application labels that change how Flame.Orleans runs the application.</summary>
public static class ApplicationLabels
{
    /// <summary>
    /// The service process is kept after a session and reused by the next session of the same application (it gets
    /// OnSessionEnter again, with the new session's common data), instead of a fresh process per session.
    /// </summary>
    public const string ReuseServices = "reuse-services";
}

/// <summary>Helpers for <see cref="TaskState"/>.</summary>
public static class TaskStates
{
    /// <summary>True for Succeed, Failed and Cancelled: a task in such a state never changes again.</summary>
    public static bool IsTerminal(this TaskState state) => state >= TaskState.Succeed;
}

/// <summary>Something that happened to a task or a session. For tasks, <see cref="Code"/> is the new <see cref="TaskState"/>.</summary>
public sealed record FlameEvent
{
    /// <summary>For a task, the number of the state it entered; for a session, a code from <see cref="SessionEventCodes"/>.</summary>
    public required int Code { get; init; }
    /// <summary>What happened, for people.</summary>
    public string? Message { get; init; }
    /// <summary>Unix epoch milliseconds.</summary>
    public required long CreationTime { get; init; }
}

/// <summary>Codes of session events (task events use the <see cref="TaskState"/> numbers).</summary>
public static class SessionEventCodes
{
    /// <summary>The session was created.</summary>
    public const int Created = 100;
    /// <summary>The session was closed; the message says how many pending tasks were cancelled.</summary>
    public const int Closed = 101;
    /// <summary>
    /// Flame's 1001: an executor could not enter the session (its service did not start, or OnSessionEnter failed);
    /// the message is Flame's: <c>Executor &lt;{id}&gt; on node &lt;{node}&gt; failed to bind session with return_code &lt;{rc}&gt;: {detail}</c>.
    /// </summary>
    public const int BindingFailed = 1001;
    /// <summary>
    /// Flame's 1002: entering the session failed <c>Flame:Execution:MaxBindingFailures</c> times; no executor is given to
    /// it any more (its pending tasks wait until it is closed, or fail when <c>FailPendingTasksAtBindingLimit</c> is set).
    /// </summary>
    public const int RetryLimitReached = 1002;
    /// <summary>The session was restored from the task store after its silo stopped; the message says what was lost.</summary>
    public const int Restored = 104;
    /// <summary>The scheduler gave the session an executor (bound an idle one, or asked a node for a new one); the message says why.</summary>
    public const int ExecutorAssigned = 105;
    /// <summary>An executor left the session because it had no work (delay_release expired, or the session closed).</summary>
    public const int ExecutorUnbound = 106;
    /// <summary>An executor left the session at a task boundary, taken back by the scheduler for another session; the message says why.</summary>
    public const int ExecutorPreempted = 107;
    /// <summary>No Ready node runs the shim of the session's application: its tasks stay Pending until one does.</summary>
    public const int NoNodeForShim = 108;
}

/// <summary>Resources a session's service instance needs, or a node offers (as Flame: whole cores, bytes, devices).</summary>
public sealed record ResourceRequirement
{
    /// <summary>CPU in whole cores (a node's capacity is its number of logical CPUs).</summary>
    public ulong Cpu { get; init; }
    /// <summary>Memory in bytes.</summary>
    public ulong Memory { get; init; }
    /// <summary>Number of GPUs.</summary>
    public int Gpu { get; init; }
}

/// <summary>One environment variable given to a service process.</summary>
public sealed record EnvironmentVariable
{
    /// <summary>The variable's name.</summary>
    public required string Name { get; init; }
    /// <summary>Its value.</summary>
    public string Value { get; init; } = "";
}

/// <summary>Optional descriptions of an application's input, output and common data.</summary>
public sealed record ApplicationSchema
{
    /// <summary>The task input's schema.</summary>
    public string? Input { get; init; }
    /// <summary>The task output's schema.</summary>
    public string? Output { get; init; }
    /// <summary>The common data's schema.</summary>
    public string? CommonData { get; init; }
}

/// <summary>How to run an application's service, and its limits.</summary>
public sealed record ApplicationSpec
{
    /// <summary>How the service runs.</summary>
    public Shim Shim { get; init; }
    /// <summary>Free text.</summary>
    public string? Description { get; init; }
    /// <summary>Free labels.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>A container image, for shims that use one.</summary>
    public string? Image { get; init; }
    /// <summary>The executable the executor manager starts.</summary>
    public string? Command { get; init; }
    /// <summary>Its arguments.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];
    /// <summary>Extra environment variables.</summary>
    public IReadOnlyList<EnvironmentVariable> Environments { get; init; } = [];
    /// <summary>The working directory of the service process.</summary>
    public string? WorkingDirectory { get; init; }
    /// <summary>Most executors one session of this application may hold; null = unlimited.</summary>
    public uint? MaxInstances { get; init; }
    /// <summary>Seconds a bound executor waits for more tasks before it unbinds; null = the cluster default.</summary>
    public long? DelayRelease { get; init; }
    /// <summary>Schemas of the data.</summary>
    public ApplicationSchema? Schema { get; init; }
    /// <summary>Where the application's package lives, for installers.</summary>
    public string? Url { get; init; }
    /// <summary>The installer to use.</summary>
    public string? Installer { get; init; }
}

/// <summary>A registered application.</summary>
public sealed record ApplicationInfo
{
    /// <summary>The unique name.</summary>
    public required string Name { get; init; }
    /// <summary>How to run it.</summary>
    public required ApplicationSpec Spec { get; init; }
    /// <summary>Whether new sessions are accepted.</summary>
    public ApplicationState State { get; init; }
    /// <summary>Unix epoch milliseconds of registration.</summary>
    public long CreationTime { get; init; }
}

/// <summary>What a session runs and how it is scheduled.</summary>
public sealed record SessionSpec
{
    /// <summary>The application's name.</summary>
    public required string Application { get; init; }
    /// <summary>Bytes every service instance receives once when it enters the session.</summary>
    public byte[]? CommonData { get; init; }
    /// <summary>Executors the scheduler keeps for the session while it is open.</summary>
    public uint MinInstances { get; init; }
    /// <summary>Most executors for the session; null = unlimited.</summary>
    public uint? MaxInstances { get; init; }
    /// <summary>Tasks handed to an executor at once (0 = 1).</summary>
    public uint BatchSize { get; init; }
    /// <summary>Higher is served first.</summary>
    public uint Priority { get; init; }
    /// <summary>What one service instance needs; a session created without one gets the cluster's default (Flame's <c>cpu=1,mem=1g</c>).</summary>
    public ResourceRequirement? ResReq { get; init; }
    /// <summary>
    /// Who created the session: the name of the gateway caller's token (<c>anonymous</c> without one), set by the
    /// gateway, never by the client; null for sessions created in-process. A <c>user</c> sees and changes only the
    /// sessions it owns. Not compared when a session is opened again.
    /// </summary>
    public string? Owner { get; init; }
}

/// <summary>A session's state and exact task counters.</summary>
public sealed record SessionStatus
{
    /// <summary>Open or closed.</summary>
    public SessionState State { get; init; }
    /// <summary>Unix epoch milliseconds.</summary>
    public long CreationTime { get; init; }
    /// <summary>Unix epoch milliseconds of the close, if closed.</summary>
    public long? CompletionTime { get; init; }
    /// <summary>Tasks in state Pending.</summary>
    public int Pending { get; init; }
    /// <summary>Tasks in state Running.</summary>
    public int Running { get; init; }
    /// <summary>Tasks in state Succeed.</summary>
    public int Succeed { get; init; }
    /// <summary>Tasks in state Failed.</summary>
    public int Failed { get; init; }
    /// <summary>Tasks in state Cancelled.</summary>
    public int Cancelled { get; init; }
    /// <summary>Session events, oldest first.</summary>
    public IReadOnlyList<FlameEvent> Events { get; init; } = [];
}

/// <summary>Which sessions a list shows; null fields let every session through.</summary>
public sealed record SessionFilter
{
    /// <summary>Only sessions in this state.</summary>
    public SessionState? State { get; init; }
    /// <summary>Only sessions of this application.</summary>
    public string? Application { get; init; }
    /// <summary>Sessions read per call (1 to 10,000). Default 1,000.</summary>
    public int PageSize { get; init; } = 1_000;
}

/// <summary>A session: its id, spec and status.</summary>
public sealed record SessionInfo
{
    /// <summary>The session id.</summary>
    public required string Id { get; init; }
    /// <summary>What it runs.</summary>
    public required SessionSpec Spec { get; init; }
    /// <summary>Where it is.</summary>
    public required SessionStatus Status { get; init; }
}

/// <summary>A task as clients see it.</summary>
public sealed record TaskInfo
{
    /// <summary>The task id, unique in its session: 1, 2, … in creation order.</summary>
    public required long Id { get; init; }
    /// <summary>The session it belongs to.</summary>
    public required string SessionId { get; init; }
    /// <summary>Its state.</summary>
    public TaskState State { get; init; }
    /// <summary>The input given at creation.</summary>
    public byte[]? Input { get; init; }
    /// <summary>The service's output, once it finished.</summary>
    public byte[]? Output { get; init; }
    /// <summary>Unix epoch milliseconds.</summary>
    public long CreationTime { get; init; }
    /// <summary>Unix epoch milliseconds of the terminal state.</summary>
    public long? CompletionTime { get; init; }
    /// <summary>One event per state change, oldest first.</summary>
    public IReadOnlyList<FlameEvent> Events { get; init; } = [];
    /// <summary>
    /// When the task is handed to an executor: the number of that hand-over among the executor's (0 otherwise). Sent
    /// back with the result, it tells a completion retried after a lost answer from one for a later launch of the
    /// same task (a failed attempt requeues it, and the same executor may get it again).
    /// </summary>
    public long Launch { get; init; }
}

/// <summary>A piece of a session's task list, in id order.</summary>
public sealed record TaskPage
{
    /// <summary>The tasks.</summary>
    public required IReadOnlyList<TaskInfo> Tasks { get; init; }
    /// <summary>Pass as <c>afterId</c> to get the next page; null when there is none.</summary>
    public long? NextAfterId { get; init; }
}
