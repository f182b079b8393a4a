namespace Flame.Client;

/// <summary>
/// A client of a Flame cluster: applications, sessions, tasks, and read-only views of executors and
/// nodes. Two transports implement it: <see cref="GrpcFlameClient"/> speaks the <c>flame.v1</c>
/// Frontend protocol to a gateway, and <c>OrleansFlameClient</c> (package Flame.Client.Orleans) calls the grains directly
/// (inside a silo or through an Orleans cluster client).
/// </summary>
/// <remarks>
/// Every failure reported by the cluster is thrown as a <see cref="FlameException"/> whose
/// <see cref="FlameException.Kind"/> is the same on both transports. Cancelling a token throws
/// <see cref="OperationCanceledException"/>. Implementations are thread-safe.
/// </remarks>
public interface IFlameClient : IAsyncDisposable
{
    // ---------------------------------------------------------------- applications

    /// <summary>Registers a new application; AlreadyExists if the name is taken, InvalidArgument if it is malformed.</summary>
    Task RegisterApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Replaces an application's spec; NotFound if unknown. Open sessions keep the spec they started with.</summary>
    Task UpdateApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Removes an application; NotFound if unknown.</summary>
    Task UnregisterApplicationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>One application; NotFound if unknown.</summary>
    Task<ApplicationInfo> GetApplicationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every registered application.</summary>
    IAsyncEnumerable<ApplicationInfo> ListApplicationsAsync(CancellationToken cancellationToken = default);

    // ---------------------------------------------------------------- sessions

    /// <summary>
    /// Creates a session. With a null or empty <paramref name="sessionId"/> the server picks one
    /// (read it from the result's <see cref="SessionInfo.Id"/>). AlreadyExists if the id is taken;
    /// NotFound or InvalidArgument for an unknown or disabled application.
    /// </summary>
    Task<SessionInfo> CreateSessionAsync(string? sessionId, SessionSpec spec, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the open session <paramref name="sessionId"/>, creating it from <paramref name="spec"/> when it
    /// does not exist (NotFound when it does not and no spec is given). InvalidArgument if the session
    /// exists with another application.
    /// </summary>
    Task<SessionInfo> OpenSessionAsync(string sessionId, SessionSpec? spec = null, CancellationToken cancellationToken = default);

    /// <summary>Stops accepting tasks, cancels the pending ones and lets running ones finish. Idempotent.</summary>
    Task<SessionInfo> CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Removes a closed session with no running task; returns its last view.</summary>
    Task<SessionInfo> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>One session; NotFound if unknown.</summary>
    Task<SessionInfo> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Every session, oldest first (read a page at a time, however many there are).</summary>
    IAsyncEnumerable<SessionInfo> ListSessionsAsync(CancellationToken cancellationToken = default);

    /// <summary>The sessions that <paramref name="filter"/> lets through, oldest first, read a page at a time.</summary>
    IAsyncEnumerable<SessionInfo> ListSessionsAsync(SessionFilter filter, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the sessions closed before <paramref name="closedBefore"/> with their tasks (those still running a task
    /// are left for later); returns how many were deleted.
    /// </summary>
    Task<int> PruneSessionsAsync(DateTimeOffset closedBefore, CancellationToken cancellationToken = default);

    // ---------------------------------------------------------------- tasks

    /// <summary>
    /// Enqueues a task with <paramref name="input"/> (null for none) in an open session; returns it in state
    /// Pending. InvalidArgument if the session is closed or the input too large. The array must not be
    /// changed afterwards: it may be sent without a copy.
    /// </summary>
    Task<TaskInfo> CreateTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default);

    /// <summary>
    /// Enqueues one task per input in one call (all or none) and returns the id of the first; the others follow it
    /// in order. A Flame.Orleans extension: much cheaper per task than <see cref="CreateTaskAsync"/>.
    /// </summary>
    Task<long> CreateTasksAsync(string sessionId, IReadOnlyList<byte[]?> inputs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every task of the session that reaches a terminal state from now on, in batches as they finish; ends when the
    /// session is closed with nothing pending or running. The first batch is empty and comes as soon as the watch is
    /// in place: no task finishing after it is missed. A Flame.Orleans extension: one stream for a whole session
    /// instead of a watch per task. Tasks finished before the watch are read with <see cref="ListTasksAsync"/>.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<TaskInfo>> WatchSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>One task; NotFound if the session or the task is unknown.</summary>
    Task<TaskInfo> GetTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The task now, then again after each state change; the sequence ends after a terminal state
    /// (Succeed, Failed, Cancelled). A watch of a finished task yields its final state and ends.
    /// Intermediate states may be skipped when they change faster than they are read, never the terminal one.
    /// </summary>
    IAsyncEnumerable<TaskInfo> WatchTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default);

    /// <summary>Every task of the session, in id order.</summary>
    IAsyncEnumerable<TaskInfo> ListTasksAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Creates a task and watches it until it is terminal; returns the terminal task (check its <see cref="TaskInfo.State"/>).</summary>
    Task<TaskInfo> RunTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default);

    // ---------------------------------------------------------------- cluster

    /// <summary>Every executor of the cluster.</summary>
    IAsyncEnumerable<ExecutorInfo> ListExecutorsAsync(CancellationToken cancellationToken = default);

    /// <summary>Every node of the cluster.</summary>
    IAsyncEnumerable<NodeInfo> ListNodesAsync(CancellationToken cancellationToken = default);

    /// <summary>One node; NotFound if unknown.</summary>
    Task<NodeInfo> GetNodeAsync(string name, CancellationToken cancellationToken = default);
}
