using Orleans.Concurrency;

namespace Flame.Grains;

/// <summary>
/// One session and the task queue it owns, keyed by the session id. All task state changes of a
/// session go through here, so its counters are exact and its queue needs no locks.
/// </summary>
/// <remarks>
/// Three callers, in three groups below: clients (through the gateway), executors (their executor grain, and the
/// gateway's one task exchange) and the scheduler. One interface, not three: a call's wire identity is its declaring
/// interface with its alias, so moving methods to other interfaces would break a cluster of mixed versions.
/// </remarks>
[Alias("flame.ISessionGrain")]
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>Creates the session; AlreadyExists if it exists, NotFound/InvalidArgument for an unknown or disabled application.</summary>
    [Alias("Create")] Task<SessionInfo> CreateAsync(SessionSpec spec);
    /// <summary>Returns the open session, creating it when absent and <paramref name="spec"/> is given.</summary>
    [Alias("Open")] Task<SessionInfo> OpenAsync(SessionSpec? spec);
    /// <summary>Stops accepting tasks and cancels the pending ones. Idempotent.</summary>
    [AlwaysInterleave, Alias("Close")] Task<SessionInfo> CloseAsync();
    /// <summary>Removes a closed session with no running task; returns its last view.</summary>
    [Alias("Delete")] Task<SessionInfo> DeleteAsync();
    /// <summary>
    /// Activates the session (restoring it from the task store) so that it reports its demand to the scheduler; sent to
    /// every open session after a restart, so that pending work does not wait for a client to touch its session.
    /// </summary>
    [OneWay, Alias("Wake")] Task WakeAsync();
    /// <summary>The session; NotFound if it does not exist.</summary>
    [AlwaysInterleave, Alias("Get")] Task<SessionInfo> GetAsync();

    /// <summary>Enqueues a task; InvalidArgument if the session is closed or the input too large.</summary>
    [AlwaysInterleave, Alias("CreateTask")] Task<TaskInfo> CreateTaskAsync(byte[]? input);
    /// <summary>Enqueues one task per input, all or none; returns the first id (the others follow it).</summary>
    [AlwaysInterleave, Alias("CreateTasks")] Task<long> CreateTasksAsync(IReadOnlyList<byte[]?> inputs);
    /// <summary>
    /// Registers <paramref name="watcher"/> to receive, in batches, every task that reaches a terminal state from now
    /// on, until the session is closed with nothing pending or running (the last batch says so).
    /// </summary>
    [Alias("WatchSession")] Task WatchSessionAsync(ISessionWatcher watcher);
    /// <summary>Stops <see cref="WatchSessionAsync"/> for <paramref name="watcher"/>.</summary>
    [Alias("UnwatchSession")] Task UnwatchSessionAsync(ISessionWatcher watcher);
    /// <summary>
    /// True while <paramref name="watcher"/> is registered with this activation by <see cref="WatchSessionAsync"/>: false
    /// once the session's silo died (its new activation knows no watchers) or the last batch was sent.
    /// </summary>
    [AlwaysInterleave, Alias("IsWatchingSession")] Task<bool> IsWatchingSessionAsync(ISessionWatcher watcher);
    /// <summary>One task; NotFound if unknown.</summary>
    [AlwaysInterleave, Alias("GetTask")] Task<TaskInfo> GetTaskAsync(long taskId);
    /// <summary>Up to <paramref name="max"/> tasks with ids above <paramref name="afterId"/>, in id order.</summary>
    [AlwaysInterleave, Alias("ListTasks")] Task<TaskPage> ListTasksAsync(long afterId, int max);

    /// <summary>
    /// Returns the task now and, unless it is terminal, registers <paramref name="watcher"/> to be told of
    /// each later change until the task is terminal or <see cref="UnwatchTaskAsync"/> is called.
    /// </summary>
    [AlwaysInterleave, Alias("WatchTask")] Task<TaskInfo> WatchTaskAsync(long taskId, ITaskWatcher watcher);
    /// <summary>Stops telling <paramref name="watcher"/> about the task.</summary>
    [Alias("UnwatchTask")] Task UnwatchTaskAsync(long taskId, ITaskWatcher watcher);

    // The executor side. Executors reach these through their executor grain (binding) and the
    // gateway (tasks); the session checks that the executor is attached before it hands out work.

    /// <summary>The application and session an executor needs to enter; NotFound if the session does not exist.</summary>
    [Alias("GetBinding")] Task<SessionBinding> GetBindingAsync();
    /// <summary>An executor entered the session and will pull tasks.</summary>
    [Alias("AttachExecutor")] Task AttachExecutorAsync(string executorId);
    /// <summary>An executor left (or was lost): its running task goes back to Pending, counted as an attempt.</summary>
    [Alias("DetachExecutor")] Task DetachExecutorAsync(string executorId, string reason);
    /// <summary>Several executors were lost together (their node died): all are detached before any task is requeued.</summary>
    [Alias("DetachExecutors")] Task DetachExecutorsAsync(IReadOnlyList<string> executorIds, string reason);
    /// <summary>
    /// The task exchange: every task an executor runs goes through here, one turn at a time (see
    /// <see cref="TaskExchangeKind"/>): the results it reports, the tasks it gives back, and the next task(s) for it,
    /// waiting for work like a long-poll. The answer ends with <see cref="TaskHandout.Done"/> once the session has
    /// had no task for the application's delay_release (the executor should unbind), or
    /// <see cref="TaskHandout.Wait"/> when the caller should ask again. NotFound when the session does not exist;
    /// FailedPrecondition when the executor is not attached or a checked result is for a task it does not hold.
    /// </summary>
    [AlwaysInterleave, Alias("ExchangeTask")] Task<TaskHandout> ExchangeTaskAsync(string executorId, TaskExchange exchange);
    /// <summary>
    /// An executor could not enter the session: <paramref name="message"/> is recorded verbatim as event 1001. After
    /// <c>MaxBindingFailures</c> in a row the session gets event 1002 and no more executors (as Flame), or its pending
    /// tasks are Failed with the error (<c>FailPendingTasksAtBindingLimit</c>).
    /// </summary>
    [Alias("ReportBindingFailed")] Task ReportBindingFailedAsync(string executorId, string message);

    // The scheduler's side.

    /// <summary>
    /// The scheduler takes the executor back for <paramref name="forSession"/>: it leaves at its next task boundary
    /// (now if idle; after its running task completes otherwise), never interrupting a task. Recorded as an event.
    /// </summary>
    [OneWay, Alias("PreemptExecutor")] Task PreemptExecutorAsync(string executorId, string forSession, string reason);
    /// <summary>Records a scheduling decision about this session as a session event (code from <see cref="SessionEventCodes"/>).</summary>
    [OneWay, Alias("RecordDecision")] Task RecordDecisionAsync(int code, string message);
}

/// <summary>Receives task changes from session grains (a grain observer; one per gateway or client, not per watch).</summary>
[Alias("flame.ITaskWatcher")]
public interface ITaskWatcher : IGrainObserver
{
    /// <summary>The task as it is after a change.</summary>
    [OneWay, Alias("OnTaskChanged")] Task OnTaskChangedAsync(TaskInfo task);
}

/// <summary>Receives the tasks of a session as they finish (a grain observer; one per WatchSession stream).</summary>
[Alias("flame.ISessionWatcher")]
public interface ISessionWatcher : IGrainObserver
{
    /// <summary>Tasks that reached a terminal state; <paramref name="sessionDone"/> when the session is closed with nothing left to run.</summary>
    /// <remarks>
    /// One-way calls can arrive out of order: <paramref name="batch"/> numbers this watcher's batches 1, 2, 3, … so
    /// that it can put them back in order (see <see cref="SessionBatchOrder"/>), and never takes a "done" batch for
    /// the end while an earlier one is still on its way.
    /// </remarks>
    [OneWay, Alias("OnTasksFinished")] Task OnTasksFinishedAsync(IReadOnlyList<TaskInfo> tasks, bool sessionDone, long batch);
}

/// <summary>
/// Puts a session watcher's numbered batches back in order: <see cref="Accept"/> returns the batches that are now
/// next in line (none while an earlier one is missing). Thread-safe.
/// </summary>
public sealed class SessionBatchOrder
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, (IReadOnlyList<TaskInfo> Tasks, bool Done)> _early = [];
    private long _next = 1;

    /// <summary>Takes batch <paramref name="batch"/>; returns it and any held ones that follow it, in order.</summary>
    public List<(IReadOnlyList<TaskInfo> Tasks, bool Done)> Accept(IReadOnlyList<TaskInfo> tasks, bool done, long batch)
    {
        var ready = new List<(IReadOnlyList<TaskInfo>, bool)>(1);
        lock (_lock)
        {
            if (batch < _next)
                return ready; // a duplicate
            _early[batch] = (tasks, done);
            while (_early.Remove(_next, out var next))
            {
                ready.Add(next);
                _next++;
            }
        }
        return ready;
    }
}

/// <summary>
/// Lists sessions from the task store, a page at a time, without activating their grains; wakes the sessions with work
/// after a restart; prunes old closed sessions. Keeps nothing in memory: a stateless worker, key <see cref="Key"/>.
/// </summary>
[Alias("flame.ISessionDirectoryGrain")]
public interface ISessionDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The key of the directory.</summary>
    public const long Key = 0;

    /// <summary>Nothing: the task store is the directory (kept for callers of older versions).</summary>
    [Alias("Add")] Task AddAsync(string sessionId);
    /// <summary>Nothing: the task store is the directory (kept for callers of older versions).</summary>
    [Alias("Remove")] Task RemoveAsync(string sessionId);
    /// <summary>All session ids, oldest first. Reads them all: for tests and small clusters; lists use <see cref="ListPageAsync"/>.</summary>
    [Alias("List")] Task<IReadOnlyList<string>> ListAsync();
    /// <summary>
    /// Wakes the open sessions that have work (pending or running tasks, or min_instances), found by one query of the
    /// task store (see <see cref="ISessionGrain.WakeAsync"/>); the scheduler asks for it when it starts. Idle sessions
    /// stay in the store until something needs them.
    /// </summary>
    [OneWay, Alias("WakeOpenSessions")] Task WakeOpenSessionsAsync();
    /// <summary>
    /// Up to <paramref name="max"/> sessions after <paramref name="pageToken"/> (null or empty: from the first), oldest
    /// first (creation time, then id), as the task store has them; <paramref name="open"/> and
    /// <paramref name="application"/> filter when given. InvalidArgument for a malformed token.
    /// </summary>
    [Alias("ListPage")] Task<SessionListPage> ListPageAsync(string? pageToken, int max, bool? open, string? application);
    /// <summary>Deletes up to <paramref name="max"/> sessions closed before <paramref name="closedBefore"/> (ms since the Unix epoch), oldest first; returns their ids.</summary>
    [Alias("PruneClosed")] Task<IReadOnlyList<string>> PruneClosedAsync(long closedBefore, int max);
}

/// <summary>A page of sessions and where the next one starts.</summary>
[GenerateSerializer, Immutable, Alias("flame.SessionListPage")]
public sealed record SessionListPage
{
    /// <summary>The sessions, oldest first.</summary>
    [Id(0)] public required IReadOnlyList<SessionInfo> Sessions { get; init; }
    /// <summary>The token of the next page; null after the last one.</summary>
    [Id(1)] public string? NextPageToken { get; init; }

    /// <summary>The token of the page that starts after <paramref name="session"/>: "{creation time}:{id}".</summary>
    public static string TokenAfter(SessionInfo session) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{session.Status.CreationTime}:{session.Id}");
}

/// <summary>The read side of the cluster view: nodes and executors. Served by the scheduler, key <see cref="Key"/>.</summary>
[Alias("flame.IClusterDirectoryGrain")]
public interface IClusterDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The key of the one directory (the scheduler's key).</summary>
    public const long Key = 0;

    /// <summary>Every node.</summary>
    [Alias("ListNodes")] Task<IReadOnlyList<NodeInfo>> ListNodesAsync();
    /// <summary>One node; NotFound if unknown.</summary>
    [Alias("GetNode")] Task<NodeInfo> GetNodeAsync(string name);
    /// <summary>Every executor.</summary>
    [Alias("ListExecutors")] Task<IReadOnlyList<ExecutorInfo>> ListExecutorsAsync();
}

/// <summary>
/// The open sessions of one owner (the gateway caller that created them), keyed by the owner's name, so that
/// <c>Flame:Limits:MaxOpenSessionsPerOwner</c> holds across the cluster. Kept in memory: sessions restored after a
/// restart count themselves again.
/// </summary>
[Alias("flame.ISessionOwnerGrain")]
public interface ISessionOwnerGrain : IGrainWithStringKey
{
    /// <summary>Counts a new open session; ResourceExhausted when the owner already has <paramref name="limit"/>.</summary>
    [Alias("Open")] Task OpenAsync(string sessionId, int limit);
    /// <summary>Counts an open session restored from the task store (never refused: it exists already).</summary>
    [OneWay, Alias("Restored")] Task RestoredAsync(string sessionId);
    /// <summary>Stops counting a session that was closed (or whose creation failed).</summary>
    [OneWay, Alias("Closed")] Task ClosedAsync(string sessionId);
    /// <summary>How many open sessions are counted.</summary>
    [Alias("Count")] Task<int> CountAsync();
}
