using Flame.Grains.Executors;
using Flame.Grains.Hosting;
using Flame.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flame.Grains.Sessions;

/// <summary>One session and its task queue. See <see cref="ISessionGrain"/>.</summary>
/// <remarks>
/// The hot path (create, launch, complete) is O(1) and touches no other grain: tasks are handed
/// straight to executors waiting in <see cref="LaunchTaskAsync"/>, and the scheduler hears of the
/// session's demand only when it changes in a way that matters (see <see cref="ReportDemand"/>).
/// <para>
/// Durability: every change marks the task (or the session row) dirty; one flush at a time writes what is dirty to the
/// <see cref="ITaskStore"/>, which commits the flushes of all sessions together. Nothing a client is told waits for
/// less: a reply about a change (an accepted task, a closed session, a view) waits for the flush that holds it, and
/// watchers hear of a change only once it is durable. Executors get their next task without waiting: if the silo
/// dies before a Running state is written, the task simply runs again.
/// </para>
/// </remarks>
// Its state is in the task store; it stays active while it exists because executors long-poll it.
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class SessionGrain(
    IOptions<FlameLimitsOptions> limits,
    IOptions<FlameExecutionOptions> execution,
    ITaskStore store,
    TimeProvider clock,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    /// <summary>Task rows per store call: a session closing with a million pending tasks writes in slices.</summary>
    private const int WriteSlice = 5000;

    private const int MaxSessionEvents = 1000;

    private readonly FlameLimitsOptions _limits = limits.Value;
    private readonly IdempotencyWindow _idempotency = new(); // failover (issue 21)
    private readonly FlameExecutionOptions _execution = execution.Value;
    private SessionData? _session;
    private TaskTable _tasks = new();
    private readonly Dictionary<long, List<ITaskWatcher>> _watchers = [];
    private readonly List<ISessionWatcher> _sessionWatchers = [];
    // Batches sent to each session watcher: one-way calls may arrive out of order, so each carries its number.
    private readonly Dictionary<ISessionWatcher, long> _batchesSent = [];
    private List<TaskInfo>? _finished;
    private IGrainTimer? _flushTimer;
    private readonly Dictionary<string, ExecutorSlot> _executors = new(StringComparer.Ordinal);
    private readonly Queue<ExecutorSlot> _waiting = new();
    private int _bindingFailures;
    // Flame's retry limit was reached: the session gets no more executors (in memory, as Flame's counter).
    private bool _bindingPaused;
    private ResourceRequirement? _defaultResReq;
    private SessionDemand? _lastReported;
    private IGrainTimer? _demandTimer;
    private IGrainTimer? _executorCheck;
    private bool _creating;
    // Restored from the store: executors bound before the restart come back on their own (see Attached).
    private bool _restored;
    private HashSet<string>? _detached;

    // The journal: what changed since the last flush, and who waits for it.
    private readonly HashSet<long> _dirty = [];
    private readonly HashSet<long> _toPublish = [];
    private bool _sessionDirty;
    private long _insertedUpTo;
    private bool _flushing;
    private TaskCompletionSource _nextFlush = NewFlush();
    private Task _currentFlush = Task.CompletedTask;

    // Cached: GetPrimaryKeyString builds a new string, and the hot path uses it for every task.
    private string Id => _id ??= this.GetPrimaryKeyString();
    private string? _id;

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- Activation: restore from the task store --------------------------------------------------

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var row = await store.LoadSessionAsync(Id, cancellationToken);
        if (row is null)
            return;
        _restored = true;
        var form = StoredForms.Read<StoredSessionForm>(row.Json);
        _session = new SessionData(form.Spec, form.Application, form.CreationTime)
        {
            State = form.State,
            CompletionTime = form.CompletionTime,
        };
        _session.Events.AddRange(form.Events);
        if (form.State == SessionState.Open && form.Spec.Owner is { } owner)
            _ = GrainFactory.GetGrain<ISessionOwnerGrain>(owner).RestoredAsync(Id); // one-way
        await foreach (var task in store.LoadTasksAsync(Id, 0, cancellationToken))
        {
            _tasks.Restore(task);
            _idempotency.Restore(task, Now); // failover (issue 21): keys outlive the silo, stored with their first task
            // Finished and stored: large payloads stay there (a restored session of millions of results is not loaded whole).
            if (((TaskState)task.State).IsTerminal())
                _tasks.DropPayloads(task.Id, _limits.FinishedPayloadInMemoryBytes);
        }
        _insertedUpTo = _tasks.Count;

        // Running here means running when the silo that held the session stopped: that attempt is lost.
        var lost = _tasks.IdsIn(TaskState.Running);
        foreach (var taskId in lost)
            FailAttempt(taskId, "the silo that held the session stopped while the task ran");
        var now = Now;
        AddEvent(SessionEventCodes.Restored,
            $"restored from the task store: {_tasks.Count} task(s), {lost.Count} running task(s) lost an attempt", now);
        ReportDemand(force: true);
        LogRestored(Id, _tasks.Count, lost.Count);
    }

    public Task WakeAsync()
    {
        // Activating restored it and reported its demand; a session that was active already (it outlived the silo that
        // held the scheduler) reports again, for the new scheduler knows nothing of it.
        ReportDemand(force: true);
        return Task.CompletedTask;
    }

    // ---- Frontend -------------------------------------------------------------------------------

    public async Task<SessionInfo> CreateAsync(SessionSpec spec)
    {
        if (_session is not null)
            throw FlameException.AlreadyExists($"session '{Id}' already exists");
        await CreateCoreAsync(spec);
        return View();
    }

    public async Task<SessionInfo> OpenAsync(SessionSpec? spec)
    {
        if (_session is null)
        {
            if (spec is null)
            {
                DeactivateOnIdle(); // keep no activation for an id that does not exist
                throw NotFound();
            }
            await CreateCoreAsync(spec);
            return View();
        }
        // INVALID_ARGUMENT, as Flame: its SDKs take this code (not FAILED_PRECONDITION) for a session that cannot be opened.
        if (_session.State == SessionState.Closed)
            throw FlameException.InvalidArgument($"Session {Id} is not open");
        if (spec is not null && SessionSpecs.FirstDifference(_session.Spec, Resolved(spec)) is var (field, expected, got))
            throw FlameException.InvalidArgument(
                $"session <{Id}> spec mismatch: {field} differs (expected {expected}, got {got}); open it without a spec or with the same one");
        return View();
    }

    public Task<SessionInfo> CloseAsync()
    {
        var session = Existing();
        if (session.State == SessionState.Open)
        {
            var now = Now;
            var ids = new List<long>();
            var cancelled = _tasks.CancelPending(now, "cancelled: the session was closed", ids);
            session.State = SessionState.Closed;
            session.CompletionTime = now;
            AddEvent(SessionEventCodes.Closed, $"closed; {cancelled} pending task(s) cancelled", now);
            Changed(ids);
            NotifyTerminalWatchers();
            WakeAllWaiters(); // nothing more will come: idle executors should unbind now
            ReportDemand(force: true);
            if (session.Spec.Owner is { } owner)
                _ = GrainFactory.GetGrain<ISessionOwnerGrain>(owner).ClosedAsync(Id); // one-way
            LogClosed(Id, cancelled);
        }
        return DurableAsync(View());
    }

    public async Task<SessionInfo> DeleteAsync()
    {
        var session = Existing();
        if (session.State != SessionState.Closed)
            throw FlameException.FailedPrecondition($"session '{Id}' is open; close it before deleting it");
        var running = _tasks.CountOf(TaskState.Running);
        if (running > 0)
            throw FlameException.FailedPrecondition($"session '{Id}' has {running} running task(s); delete it when they finish");
        var last = View();
        // Nothing of the session may be written after its delete: forget what is not flushed yet.
        _dirty.Clear();
        _toPublish.Clear();
        _sessionDirty = false;
        await store.DeleteSessionAsync(Id);
        await GrainFactory.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).RemoveAsync(Id);
        _ = Scheduler.ReportSessionAsync(Demand() with { Deleted = true, Open = false });
        _session = null;
        _tasks = new TaskTable();
        _watchers.Clear();
        FlushFinished();
        _sessionWatchers.Clear();
        _batchesSent.Clear();
        _executors.Clear();
        _waiting.Clear();
        _demandTimer?.Dispose();
        _demandTimer = null;
        _executorCheck?.Dispose();
        _executorCheck = null;
        DeactivateOnIdle();
        LogDeleted(Id);
        return last;
    }

    public Task<SessionInfo> GetAsync()
    {
        Existing();
        return DurableAsync(View());
    }

    public Task<TaskInfo> CreateTaskAsync(byte[]? input)
    {
        var session = Existing();
        var key = KeyOfCall(); // failover (issue 21): a retried create with a known key gets the task made the first time
        if (key is not null && _idempotency.TryGet(key, 1, Now, out var made)) // failover (issue 21)
            return DurableAsync(_tasks.Get(made, Id)); // failover (issue 21)
        if (session.State != SessionState.Open)
            throw FlameException.InvalidArgument($"session '{Id}' is closed; it accepts no more tasks");
        if (input is not null && input.Length > _limits.MaxTaskInputBytes)
            throw FlameException.InvalidArgument(
                $"task input is {input.Length} bytes; the limit is {_limits.MaxTaskInputBytes} (Flame:Limits:MaxTaskInputBytes)");
        TaskLimits.CheckCreate(Id, _tasks.CountOf(TaskState.Pending), 1, _limits);
        var id = _tasks.Add(input, Now);
        RememberKey(key, id, 1); // failover (issue 21)
        Changed(id, publish: false);
        var created = _tasks.Get(id, Id);
        Dispatch();
        ReportDemand(force: false);
        return DurableAsync(created);
    }

    public Task<long> CreateTasksAsync(IReadOnlyList<byte[]?> inputs)
    {
        var session = Existing();
        var key = KeyOfCall(); // failover (issue 21): the key covers the whole batch
        if (key is not null && _idempotency.TryGet(key, inputs.Count, Now, out var made)) // failover (issue 21)
            return DurableAsync(made); // failover (issue 21)
        if (session.State != SessionState.Open)
            throw FlameException.InvalidArgument($"session '{Id}' is closed; it accepts no more tasks");
        if (inputs.Count == 0)
            throw FlameException.InvalidArgument("no inputs: CreateTasks needs at least one");
        TaskLimits.CheckCreate(Id, _tasks.CountOf(TaskState.Pending), inputs.Count, _limits);
        for (var i = 0; i < inputs.Count; i++)
            if (inputs[i] is { Length: var size } && size > _limits.MaxTaskInputBytes)
                throw FlameException.InvalidArgument(
                    $"input {i} is {size} bytes; the limit is {_limits.MaxTaskInputBytes} (Flame:Limits:MaxTaskInputBytes); no task was created");
        var now = Now;
        var first = _tasks.Add(inputs[0], now);
        RememberKey(key, first, inputs.Count); // failover (issue 21)
        Changed(first, publish: false);
        for (var i = 1; i < inputs.Count; i++)
            Changed(_tasks.Add(inputs[i], now), publish: false);
        Dispatch();
        ReportDemand(force: false);
        return DurableAsync(first);
    }

    // failover (issue 21): the idempotency key of this call, set by the gateway from the gRPC metadata.
    private static string? KeyOfCall() =>
        RequestContext.Get(IdempotencyKey.Header) is string key ? IdempotencyKey.Validate(key) : null;

    // failover (issue 21): the key is written as an event of the first task, in the same row, so a restore keeps it.
    private void RememberKey(string? key, long firstId, int count)
    {
        if (key is null)
            return;
        _idempotency.Remember(key, firstId, count, Now);
        _tasks.Note(firstId, IdempotencyWindow.Event(key, count, Now));
    }

    public Task WatchSessionAsync(ISessionWatcher watcher)
    {
        Existing();
        if (!_sessionWatchers.Contains(watcher))
        {
            _sessionWatchers.Add(watcher);
            _batchesSent[watcher] = 0;
        }
        if (IsDone() && AllPublished)
            _ = watcher.OnTasksFinishedAsync([], sessionDone: true, batch: ++_batchesSent[watcher]);
        return Task.CompletedTask;
    }

    public Task UnwatchSessionAsync(ISessionWatcher watcher)
    {
        _sessionWatchers.Remove(watcher);
        _batchesSent.Remove(watcher);
        return Task.CompletedTask;
    }

    public async Task<TaskInfo> GetTaskAsync(long taskId)
    {
        ExistingTask(taskId);
        var inStore = _tasks.PayloadsInStore(taskId);
        var task = await DurableAsync(_tasks.Get(taskId, Id));
        return inStore ? await WithStoredPayloadsAsync(task) : task;
    }

    public async Task<TaskPage> ListTasksAsync(long afterId, int max)
    {
        Existing();
        var page = _tasks.Page(afterId, Math.Clamp(max, 1, 10_000), Id);
        var inStore = page.Tasks.Where(t => _tasks.PayloadsInStore(t.Id)).Select(t => t.Id).ToHashSet();
        await Durable();
        if (inStore.Count == 0)
            return page;
        // One read per task: the store's range read has no upper bound, and PostgreSQL would send the rest of the
        // session's rows with every page. The gateway's ListTask streams from the store instead of calling this.
        var tasks = page.Tasks.ToList();
        for (var i = 0; i < tasks.Count; i++)
            if (inStore.Contains(tasks[i].Id))
                tasks[i] = await WithStoredPayloadsAsync(tasks[i]);
        return page with { Tasks = tasks };
    }

    /// <summary>A finished task whose large payloads left memory (<see cref="TaskTable.DropPayloads"/>), with them read back.</summary>
    private async Task<TaskInfo> WithStoredPayloadsAsync(TaskInfo task)
    {
        // Missing only when the session is being deleted meanwhile (these reads interleave with DeleteAsync).
        var stored = await store.LoadTaskAsync(Id, task.Id)
            ?? throw FlameException.NotFound($"task {task.Id} of session '{Id}' is no longer in the task store: the session was deleted");
        return WithPayloads(task, stored);
    }

    private static TaskInfo WithPayloads(TaskInfo task, StoredTask stored) => task with
    {
        Input = task.Input ?? (stored.Input is { Length: > 0 } input ? input : null),
        Output = task.Output ?? stored.Output,
    };

    public async Task<TaskInfo> WatchTaskAsync(long taskId, ITaskWatcher watcher)
    {
        ExistingTask(taskId);
        var task = _tasks.Get(taskId, Id);
        if (_tasks.PayloadsInStore(taskId))
            return await WithStoredPayloadsAsync(await DurableAsync(task));
        if (!task.State.IsTerminal())
        {
            if (!_watchers.TryGetValue(taskId, out var list))
                _watchers[taskId] = list = new List<ITaskWatcher>(1);
            if (!list.Contains(watcher))
                list.Add(watcher);
        }
        return await DurableAsync(task);
    }

    public Task UnwatchTaskAsync(long taskId, ITaskWatcher watcher)
    {
        if (_watchers.TryGetValue(taskId, out var list) && list.Remove(watcher) && list.Count == 0)
            _watchers.Remove(taskId);
        return Task.CompletedTask;
    }

    // ---- Executors -------------------------------------------------------------------------------

    public Task<SessionBinding> GetBindingAsync()
    {
        var session = Existing();
        return Task.FromResult(new SessionBinding
        {
            Application = session.Application,
            Session = View(),
            ReuseService = _execution.ReuseServices || session.Application.Spec.Labels.Contains(ApplicationLabels.ReuseServices),
        });
    }

    public Task AttachExecutorAsync(string executorId)
    {
        Existing();
        if (!_executors.ContainsKey(executorId))
            _executors[executorId] = new ExecutorSlot();
        _bindingFailures = 0;
        WatchExecutors();
        ReportDemand(force: true);
        return Task.CompletedTask;
    }

    public Task DetachExecutorAsync(string executorId, string reason) => DetachExecutorsAsync([executorId], reason);

    public Task DetachExecutorsAsync(IReadOnlyList<string> executorIds, string reason)
    {
        if (_session is null)
            return Task.CompletedTask;
        // Detach them all first: a task requeued below must not go to another of these executors.
        var running = new List<long>();
        var unstarted = new List<long>();
        foreach (var executorId in executorIds)
        {
            if (_restored)
                (_detached ??= new HashSet<string>(StringComparer.Ordinal)).Add(executorId);
            if (!_executors.Remove(executorId, out var slot))
                continue;
            slot.Detached = true;
            slot.Waiter?.TrySetResult(0);
            // The first task it holds is the one its service ran (unless it said it runs no more); the others (its
            // window) never started.
            for (var i = 0; i < slot.Held.Count; i++)
                (i == 0 && !slot.Leaving ? running : unstarted).Add(slot.Held[i].TaskId);
            slot.Held.Clear();
        }
        foreach (var taskId in running)
            FailAttempt(taskId, reason);
        for (var i = unstarted.Count - 1; i >= 0; i--)
        {
            _tasks.Return(unstarted[i], $"returned unstarted: {reason}", Now);
            Notify(unstarted[i]);
        }
        Dispatch();
        ReportDemand(force: true);
        return Task.CompletedTask;
    }

    public async Task<PollResult<TaskInfo>> LaunchTaskAsync(string executorId)
    {
        var session = Existing();
        var slot = Attached(executorId);
        // Asking again while holding a task means our answer was lost on the way: give the same task.
        if (slot.Held.Count > 0)
            return PollResult<TaskInfo>.Of(_tasks.Get(slot.Held[0].TaskId, Id, slot.Held[0].Launch));
        if (slot.PreemptedFor is { } taker)
            return Unbind(executorId, slot, $"preempted for session '{taker}' at a task boundary: {slot.PreemptionReason}", SessionEventCodes.ExecutorPreempted);
        if (TryStart(slot) is { } started)
            return PollResult<TaskInfo>.Of(started);

        var now = Now;
        if (slot.IdleSince == 0)
            slot.IdleSince = now;
        var releaseAt = slot.IdleSince + DelayReleaseMs(session);
        if (ShouldRelease(session, now, releaseAt))
            return Unbind(executorId, slot, ReleaseReason(session), SessionEventCodes.ExecutorUnbound);

        slot.Waiter?.TrySetResult(0); // a newer poll replaces an older one
        var waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        slot.Waiter = waiter;
        if (_waiting.Count > 4 * _executors.Count + 16)
            DropStaleWaiters();
        _waiting.Enqueue(slot);
        var slice = TimeSpan.FromMilliseconds(Math.Max(1, Math.Min(releaseAt - now, (long)_execution.LongPollSlice.TotalMilliseconds)));
        if (session.State == SessionState.Closed || _executors.Count <= session.Spec.MinInstances)
            slice = _execution.LongPollSlice; // never released for lack of work: just poll again later
        await Task.WhenAny(waiter.Task, Task.Delay(slice, clock));
        if (slot.Waiter == waiter)
            slot.Waiter = null;

        var handed = waiter.Task.IsCompleted ? waiter.Task.Result : 0;
        if (handed != 0)
            return PollResult<TaskInfo>.Of(_tasks.Get(handed, Id, slot.Launch));
        if (_session is null || slot.Detached)
            return PollResult<TaskInfo>.Done;
        if (slot.PreemptedFor is { } preemptedFor)
            return Unbind(executorId, slot, $"preempted for session '{preemptedFor}' while idle: {slot.PreemptionReason}", SessionEventCodes.ExecutorPreempted);
        return ShouldRelease(_session, Now, releaseAt) ? Unbind(executorId, slot, ReleaseReason(_session), SessionEventCodes.ExecutorUnbound) : PollResult<TaskInfo>.Wait;
    }

    public Task CompleteTaskAsync(string executorId, TaskResultInfo result)
    {
        Existing();
        var slot = Attached(executorId);
        if (slot.Held.Count == 0)
            throw FlameException.FailedPrecondition(
                $"executor '{executorId}' holds no task of session '{Id}'; the completion is refused");
        // Without a window an executor holds one task: the one the result is for.
        var (taskId, launch) = slot.Held[0];
        if (result.TaskId != 0 && result.TaskId != taskId)
            throw FlameException.FailedPrecondition(
                $"executor '{executorId}' reported a result for task {result.TaskId} but runs task {taskId} of session '{Id}'; the completion is refused");
        if (result.Launch != 0 && result.Launch != launch)
            // The same task, launched again (a failed attempt put it back and this executor got it anew): this
            // result is the earlier attempt's, retried after its answer was lost. Recorded once already.
            throw FlameException.FailedPrecondition(
                $"executor '{executorId}' reported a result for launch {result.Launch} of task {taskId}, which it runs as launch {launch}; the completion is refused");
        Record(slot, 0, result);
        Dispatch();
        ReportDemand(force: false);
        return Task.CompletedTask;
    }

    /// <summary>Records the result of the task the executor holds at <paramref name="index"/>, which it then no longer holds.</summary>
    private void Record(ExecutorSlot slot, int index, TaskResultInfo result)
    {
        var taskId = slot.Held[index].TaskId;
        slot.Held.RemoveAt(index);
        var now = Now;
        if (result.ReturnCode == 0 && result.Output is { Length: var size } && size > _limits.MaxTaskOutputBytes)
        {
            _tasks.Complete(taskId, TaskState.Failed, null,
                $"the output is {size} bytes; the limit is {_limits.MaxTaskOutputBytes} (Flame:Limits:MaxTaskOutputBytes)", now);
            Notify(taskId);
        }
        else if (result.ReturnCode == 0)
        {
            _tasks.Complete(taskId, TaskState.Succeed, result.Output, null, now);
            Notify(taskId);
        }
        else if (result.SystemFailure || _execution.RetryApplicationErrors)
        {
            var message = string.IsNullOrEmpty(result.Message) ? $"the service returned code {result.ReturnCode}" : result.Message;
            FailAttempt(taskId, message, result.Output);
        }
        else
        {
            // The service's own error: Failed at once, its message verbatim (Flame's event 3; Python: str(exception)).
            var message = string.IsNullOrEmpty(result.Message) ? "Task failed with state <Failed>" : result.Message;
            _tasks.Complete(taskId, TaskState.Failed, result.Output, message, now);
            Notify(taskId);
        }
    }

    public Task<PollResult<TaskInfo>> CompleteAndLaunchTaskAsync(string executorId, TaskResultInfo result)
    {
        // Interleaved like LaunchTask, but the completion runs before the first await, so it is atomic.
        CompleteTaskAsync(executorId, result);
        return LaunchTaskAsync(executorId);
    }

    public async Task<PollResult<TaskInfo[]>> ExchangeTasksAsync(
        string executorId, IReadOnlyList<TaskResultInfo> results, IReadOnlyList<long> returned, int holding, int window)
    {
        Existing();
        var slot = Attached(executorId);
        var changed = false;
        foreach (var result in results)
        {
            // In the order the tasks ran, so normally the first held. Not held: recorded already (sent again after a
            // lost answer) or taken back from the executor; either way there is nothing to record.
            var index = slot.Held.FindIndex(h => h.Launch == result.Launch && (result.TaskId == 0 || h.TaskId == result.TaskId));
            if (index < 0)
                continue;
            Record(slot, index, result);
            changed = true;
        }
        for (var r = returned.Count - 1; r >= 0; r--)
        {
            // Last first: each goes to the front of the queue, so together they keep their order.
            var launch = returned[r];
            var index = slot.Held.FindIndex(h => h.Launch == launch);
            if (index < 0)
                continue;
            var taskId = slot.Held[index].TaskId;
            slot.Held.RemoveAt(index);
            _tasks.Return(taskId, "returned unstarted by its executor", Now);
            Notify(taskId);
            changed = true;
        }
        if (changed)
        {
            Dispatch();
            ReportDemand(force: false);
        }

        // What it holds beyond what it knows of was in an answer it never received: hand it again.
        var answer = new List<TaskInfo>();
        for (var i = Math.Clamp(holding, 0, slot.Held.Count); i < slot.Held.Count; i++)
            answer.Add(_tasks.Get(slot.Held[i].TaskId, Id, slot.Held[i].Launch));
        if (window <= 0)
        {
            // Leaving: nothing more, no wait; what it still holds never started.
            slot.Leaving = true;
            return PollResult<TaskInfo[]>.Of([.. answer]);
        }
        if (slot.Held.Count == 0)
        {
            // Holding nothing: LaunchTask's wait, and its answer (a task, poll again, or unbind).
            var poll = await LaunchTaskAsync(executorId);
            if (poll.Item is not { } first)
                return poll.KeepWaiting ? PollResult<TaskInfo[]>.Wait : PollResult<TaskInfo[]>.Done;
            answer.Add(first);
        }
        TopUp(slot, window, answer);
        return PollResult<TaskInfo[]>.Of([.. answer]);
    }

    /// <summary>
    /// Fills an executor's window, up to its share of the pending tasks: a short queue is spread over the executors,
    /// not taken by the first to ask. A preempted executor gets nothing more; it leaves once it holds nothing.
    /// </summary>
    private void TopUp(ExecutorSlot slot, int window, List<TaskInfo> answer)
    {
        if (_session is null || slot.Detached || slot.PreemptedFor is not null)
            return;
        // An even share of the work not done yet: what is pending and what the executors hold (Running).
        var executors = Math.Max(1, _executors.Count);
        var share = Math.Max(1, (_tasks.CountOf(TaskState.Pending) + _tasks.CountOf(TaskState.Running) + executors - 1) / executors);
        for (var room = Math.Min(window, share) - slot.Held.Count; room > 0 && TryStart(slot) is { } task; room--)
            answer.Add(task);
    }

    public Task ReturnTaskAsync(string executorId, long taskId)
    {
        if (_session is not null && _executors.TryGetValue(executorId, out var slot)
            && slot.Held.FindIndex(h => h.TaskId == taskId) is var index and >= 0)
        {
            slot.Held.RemoveAt(index);
            _tasks.Return(taskId, "returned: the executor went away before it received the task", Now);
            Notify(taskId);
            Dispatch();
        }
        return Task.CompletedTask;
    }

    public Task ReportBindingFailedAsync(string executorId, string message)
    {
        if (_session is null)
            return Task.CompletedTask;
        var now = Now;
        _bindingFailures++;
        AddEvent(SessionEventCodes.BindingFailed, message, now);
        if (_bindingFailures < _execution.MaxBindingFailures)
            return Task.CompletedTask;
        var limit = _execution.MaxBindingFailures;
        if (_execution.FailPendingTasksAtBindingLimit)
        {
            if (_tasks.CountOf(TaskState.Pending) == 0)
                return Task.CompletedTask;
            var ids = new List<long>();
            var failed = _tasks.FailPending(now,
                $"the service could not enter the session {_bindingFailures} times in a row; last error: {message}", ids);
            Changed(ids);
            AddEvent(SessionEventCodes.RetryLimitReached,
                $"Session retry limit reached after {_bindingFailures}/{limit} failed attempts; {failed} pending task(s) failed (Flame:Execution:FailPendingTasksAtBindingLimit).", now);
            NotifyTerminalWatchers();
            ReportDemand(force: true);
            _bindingFailures = 0;
        }
        else if (!_bindingPaused)
        {
            // Flame's words: clients and operators of Flame look for them.
            _bindingPaused = true;
            AddEvent(SessionEventCodes.RetryLimitReached,
                $"Session retry limit reached after {_bindingFailures}/{limit} failed attempts; new executor assignment is paused for this session; existing executors are unchanged.", now);
            ReportDemand(force: true);
        }
        return Task.CompletedTask;
    }

    /// <summary>Ends a failed attempt: back to Pending while attempts remain, Failed after the last.</summary>
    private void FailAttempt(long taskId, string message, byte[]? output = null)
    {
        var attempts = _tasks.AttemptsOf(taskId);
        var max = _execution.MaxTaskAttempts;
        if (attempts < max)
            _tasks.Requeue(taskId, $"attempt {attempts} of {max} failed: {message}; retrying", Now);
        else
            _tasks.Complete(taskId, TaskState.Failed, output, max == 1 ? message : $"attempt {attempts} of {max} failed: {message}", Now);
        Notify(taskId);
    }

    /// <summary>Hands pending tasks to executors waiting in LaunchTask, oldest waiter first.</summary>
    private void Dispatch()
    {
        while (_waiting.Count > 0 && _tasks.CountOf(TaskState.Pending) > 0)
        {
            var slot = _waiting.Dequeue();
            if (slot.Waiter is not { } waiter || slot.Detached || slot.Held.Count != 0)
                continue; // a stale entry: the poll ended or was replaced
            if (TryStart(slot) is not { } task)
                return;
            slot.Waiter = null;
            waiter.TrySetResult(task.Id);
        }
    }

    private TaskInfo? TryStart(ExecutorSlot slot)
    {
        if (!_tasks.TryStartNext(Now, null, out var taskId))
            return null;
        slot.Launch++;
        slot.Held.Add(new HeldTask(taskId, slot.Launch));
        slot.IdleSince = 0;
        slot.Unbinding = false; // told to leave, then given work after all: a later leave is recorded again
        Notify(taskId);
        return _tasks.Get(taskId, Id, slot.Launch);
    }

    private void DropStaleWaiters()
    {
        var live = _waiting.Where(s => s.Waiter is not null && !s.Detached).Distinct().ToList();
        _waiting.Clear();
        foreach (var slot in live)
            _waiting.Enqueue(slot);
    }

    private void WakeAllWaiters()
    {
        while (_waiting.TryDequeue(out var slot))
            slot.Waiter?.TrySetResult(0);
    }

    /// <summary>
    /// Checks every few seconds that the attached executors' grains still know them. An executor grain that lived on a
    /// silo that died comes back empty: nobody will ever complete or detach its executor, so its task would stay
    /// Running for ever. Such executors are detached (their task runs again, as an attempt) and leave the scheduler's view.
    /// </summary>
    private void WatchExecutors() =>
        _executorCheck ??= this.RegisterGrainTimer(CheckExecutorsAsync,
            new GrainTimerCreationOptions(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)) { Interleave = true });

    private async Task CheckExecutorsAsync()
    {
        if (_executors.Count == 0)
            return;
        var ids = _executors.Keys.ToList();
        var lookups = await Task.WhenAll(ids.Select(id => ExecutorLookup.AskAsync(GrainFactory, id)));
        var gone = ids.Where((id, i) => lookups[i].Gone && _executors.ContainsKey(id)).ToList();
        if (gone.Count == 0)
            return;
        await DetachExecutorsAsync(gone, "its executor was lost with the silo that held it");
        foreach (var id in gone)
            ExecutorLookup.ReportGone(GrainFactory, id);
    }

    /// <summary>Tells the executor to leave (LaunchTask answers Done), recording why on the session once.</summary>
    private PollResult<TaskInfo> Unbind(string executorId, ExecutorSlot slot, string reason, int code)
    {
        if (!slot.Unbinding)
        {
            slot.Unbinding = true;
            AddEvent(code, $"executor '{executorId}' unbound: {reason}", Now);
        }
        return PollResult<TaskInfo>.Done;
    }

    private string ReleaseReason(SessionData session) =>
        session.State == SessionState.Closed
            ? "the session is closed and has no pending task"
            : $"no pending task for delay_release ({DelayReleaseMs(session) / 1000}s)";

    public Task PreemptExecutorAsync(string executorId, string forSession, string reason)
    {
        if (_session is null || !_executors.TryGetValue(executorId, out var slot) || slot.PreemptedFor is not null)
            return Task.CompletedTask;
        slot.PreemptedFor = forSession;
        slot.PreemptionReason = reason;
        // Idle in a long-poll: leave now. Running a task: leave when it completes (its CompleteAndLaunch answers Done).
        if (slot.Held.Count == 0)
            slot.Waiter?.TrySetResult(0);
        return Task.CompletedTask;
    }

    public Task RecordDecisionAsync(int code, string message)
    {
        if (_session is not null)
            AddEvent(code, message, Now);
        return Task.CompletedTask;
    }

    private bool ShouldRelease(SessionData session, long now, long releaseAt)
    {
        if (_tasks.CountOf(TaskState.Pending) > 0)
            return false;
        if (session.State == SessionState.Closed)
            return true; // nothing will ever come
        // min_instances executors stay while the session is open, work or not.
        return _executors.Count > session.Spec.MinInstances && now >= releaseAt;
    }

    private long DelayReleaseMs(SessionData session) =>
        1000L * (session.Application.Spec.DelayRelease ?? _execution.DefaultDelayReleaseSeconds);

    private ExecutorSlot Attached(string executorId)
    {
        if (_executors.TryGetValue(executorId, out var slot))
            return slot;
        // An executor bound before the session was restored (the gateway checked its binding) keeps serving it; the
        // task it ran then was requeued at the restore, so it starts with none and its late completion is refused.
        if (_restored && _session is { State: SessionState.Open } && !(_detached?.Contains(executorId) ?? false))
        {
            _executors[executorId] = slot = new ExecutorSlot();
            ReportDemand(force: true);
            WatchExecutors();
            return slot;
        }
        throw FlameException.FailedPrecondition($"executor '{executorId}' is not bound to session '{Id}'");
    }

    // ---- Scheduler reports -----------------------------------------------------------------------

    private ISchedulerGrain Scheduler => _scheduler ??= GrainFactory.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);
    private ISchedulerGrain? _scheduler;

    /// <summary>
    /// Tells the scheduler about the session's demand. At once when it matters for allocation
    /// (work appears or ends, executors come or go); otherwise the timer sends the latest counts a
    /// few times a second, so thousands of task changes per second cost no scheduler calls.
    /// </summary>
    private void ReportDemand(bool force)
    {
        if (_session is null)
            return;
        var demand = Demand();
        var last = _lastReported;
        var matters = force || last is null
            || (last.Pending == 0) != (demand.Pending == 0)
            || (last.Running == 0) != (demand.Running == 0);
        if (matters)
        {
            _lastReported = demand;
            _ = Scheduler.ReportSessionAsync(demand);
        }
        else if (_demandTimer is null && demand != last)
        {
            _demandTimer = this.RegisterGrainTimer(() =>
            {
                _demandTimer?.Dispose();
                _demandTimer = null;
                if (_session is not null && Demand() is var now && now != _lastReported)
                {
                    _lastReported = now;
                    return Scheduler.ReportSessionAsync(now);
                }
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions { DueTime = TimeSpan.FromMilliseconds(200), Period = Timeout.InfiniteTimeSpan, Interleave = true });
        }
    }

    private SessionDemand Demand()
    {
        var s = _session!;
        var appMax = s.Application.Spec.MaxInstances;
        var max = (s.Spec.MaxInstances, appMax) switch
        {
            ({ } a, { } b) => Math.Min(a, b),
            ({ } a, null) => a,
            (null, { } b) => b,
            _ => (uint?)null,
        };
        return new SessionDemand
        {
            SessionId = Id,
            Application = s.Spec.Application,
            // Paused at the binding limit: no demand for new executors; those bound keep serving, as in Flame.
            Pending = _bindingPaused ? 0 : _tasks.CountOf(TaskState.Pending),
            Running = _tasks.CountOf(TaskState.Running),
            MinInstances = _bindingPaused ? 0 : s.Spec.MinInstances,
            MaxInstances = max,
            Priority = s.Spec.Priority,
            Open = s.State == SessionState.Open,
            ResReq = s.Spec.ResReq,
            Shim = s.Application.Spec.Shim,
        };
    }

    // ---- Helpers ---------------------------------------------------------------------------------

    /// <summary>A task changed: it is written by the next flush, and its watchers hear of it once that is durable.</summary>
    private void Notify(long taskId) => Changed(taskId, publish: true);

    // ---- The journal ----------------------------------------------------------------------------

    private static TaskCompletionSource NewFlush() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Marks a task for the next flush; <paramref name="publish"/>: its watchers hear of it after the flush.</summary>
    private void Changed(long taskId, bool publish)
    {
        _dirty.Add(taskId);
        if (publish && (_watchers.Count > 0 || _sessionWatchers.Count > 0))
            _toPublish.Add(taskId);
        StartFlush();
    }

    private void Changed(List<long> taskIds)
    {
        foreach (var taskId in taskIds)
            Changed(taskId, publish: true);
    }

    /// <summary>Marks the session's own row (state, events) for the next flush.</summary>
    private void SessionChanged()
    {
        _sessionDirty = true;
        StartFlush();
    }

    private bool AllPublished => _dirty.Count == 0 && _toPublish.Count == 0 && !_sessionDirty;

    /// <summary>Completes when every change made so far is durable.</summary>
    private Task Durable() => _dirty.Count > 0 || _sessionDirty ? _nextFlush.Task : _currentFlush;

    private async Task<T> DurableAsync<T>(T reply)
    {
        await Durable();
        return reply;
    }

    private void StartFlush()
    {
        if (_flushing)
            return;
        _flushing = true;
        _ = FlushAsync();
    }

    /// <summary>
    /// Writes what is dirty, one flush at a time, until nothing is: changes made while a flush is in the store go in
    /// the next one. Runs on the grain's scheduler, so each capture is one consistent snapshot.
    /// </summary>
    private async Task FlushAsync()
    {
        try
        {
            // Let the turn that started us finish: all of its changes go in this flush.
            await Task.Yield();
            while (_dirty.Count > 0 || _sessionDirty)
            {
                var flush = _nextFlush;
                _nextFlush = NewFlush();
                _currentFlush = flush.Task;
                var insertedBefore = _insertedUpTo;
                var table = _tasks;
                var (session, tasks, published) = Capture();
                try
                {
                    var writes = new List<Task>(1 + tasks.Count / WriteSlice);
                    if (session is not null)
                        writes.Add(store.SaveSessionAsync(session));
                    for (var i = 0; i < tasks.Count; i += WriteSlice)
                        writes.Add(store.WriteTasksAsync(Id, tasks.GetRange(i, Math.Min(WriteSlice, tasks.Count - i))));
                    await Task.WhenAll(writes);
                }
                catch (Exception ex)
                {
                    // Not durable: whoever waits hears so; the changes stay marked and go with the next flush.
                    LogFlushFailed(ex, Id, tasks.Count);
                    if (_session is not null)
                    {
                        foreach (var task in tasks)
                            _dirty.Add(task.Id);
                        foreach (var task in published)
                            _toPublish.Add(task.Id);
                        _sessionDirty |= session is not null;
                        _insertedUpTo = Math.Min(_insertedUpTo, insertedBefore);
                    }
                    flush.TrySetException(FlameException.Unavailable($"session '{Id}': the task store could not write the change: {ex.Message}"));
                    await Task.Delay(TimeSpan.FromSeconds(1), clock);
                    continue;
                }
                flush.TrySetResult();
                Publish(published);
                // Told and durable: large payloads of finished tasks now live in the store only (unless the session
                // was deleted while the flush was in the store: its table is a new, empty one).
                if (ReferenceEquals(table, _tasks) && _session is not null)
                    foreach (var task in tasks)
                        if (((TaskState)task.State).IsTerminal())
                            _tasks.DropPayloads(task.Id, _limits.FinishedPayloadInMemoryBytes);
            }
        }
        finally
        {
            _flushing = false;
        }
    }

    private (StoredSession? Session, List<StoredTask> Tasks, List<TaskInfo> Published) Capture()
    {
        StoredSession? session = null;
        if (_sessionDirty && _session is { } s)
        {
            session = new StoredSession
            {
                Id = Id,
                Application = s.Spec.Application,
                Open = s.State == SessionState.Open,
                CreationTime = s.CreationTime,
                CompletionTime = s.CompletionTime,
                Json = StoredForms.Write(new StoredSessionForm
                {
                    Spec = s.Spec,
                    Application = s.Application,
                    State = s.State,
                    CreationTime = s.CreationTime,
                    CompletionTime = s.CompletionTime,
                    Events = s.Events.ToArray(),
                }),
            };
        }
        _sessionDirty = false;

        var tasks = new List<StoredTask>(_dirty.Count);
        foreach (var taskId in _dirty)
        {
            // Finished, written and told already (a finished task does not change): nothing to write, and its
            // payloads are in the store only.
            if (_tasks.PayloadsInStore(taskId))
                continue;
            tasks.Add(_tasks.Snapshot(taskId, withInput: taskId > _insertedUpTo));
        }
        tasks.Sort((a, b) => a.Id.CompareTo(b.Id));
        _dirty.Clear();
        _insertedUpTo = _tasks.Count;

        var published = new List<TaskInfo>(_toPublish.Count);
        foreach (var taskId in _toPublish)
        {
            // Its finished state was published with the flush that wrote it, before its payloads were dropped; again
            // (a close re-notifying finished tasks' watchers) it would go to session watchers without them.
            if (_tasks.PayloadsInStore(taskId))
                continue;
            published.Add(_tasks.Get(taskId, Id));
        }
        _toPublish.Clear();
        return (session, tasks, published);
    }

    /// <summary>Tells watchers of changes that are now durable: each task's watchers, and the session's of the finished ones.</summary>
    private void Publish(List<TaskInfo> tasks)
    {
        foreach (var task in tasks)
        {
            if (_watchers.TryGetValue(task.Id, out var list))
            {
                foreach (var watcher in list)
                    _ = watcher.OnTaskChangedAsync(task); // one-way: returns at once
                if (task.State.IsTerminal())
                    _watchers.Remove(task.Id);
            }
            if (_sessionWatchers.Count > 0 && task.State.IsTerminal())
                Finished(task);
        }
        if (_sessionWatchers.Count > 0 && IsDone() && AllPublished)
            FlushFinished(); // the last ones: no need to wait for the timer
    }

    private const int FinishedBatchSize = 512;

    /// <summary>
    /// Queues a finished task for the session watchers. Batches leave when full or after a couple of
    /// milliseconds, so that thousands of completions per second cost a few calls, not thousands.
    /// </summary>
    private void Finished(TaskInfo task)
    {
        (_finished ??= new List<TaskInfo>(FinishedBatchSize)).Add(task);
        if (_finished.Count >= FinishedBatchSize)
            FlushFinished();
        else
            _flushTimer ??= this.RegisterGrainTimer(() =>
            {
                FlushFinished();
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions { DueTime = TimeSpan.FromMilliseconds(2), Period = Timeout.InfiniteTimeSpan, Interleave = true });
    }

    private void FlushFinished()
    {
        _flushTimer?.Dispose();
        _flushTimer = null;
        var batch = _finished ?? [];
        _finished = null;
        // Done only when nothing is left to send: a bulk change flushes full batches before its end, and changes not
        // yet durable are published later.
        var done = IsDone() && AllPublished && batch.Count < FinishedBatchSize;
        if (batch.Count == 0 && !done)
            return;
        foreach (var watcher in _sessionWatchers)
            _ = watcher.OnTasksFinishedAsync(batch, done, ++_batchesSent[watcher]);
        if (done)
        {
            _sessionWatchers.Clear();
            _batchesSent.Clear();
        }
    }

    /// <summary>Closed with nothing pending or running: no task will change again.</summary>
    private bool IsDone() =>
        _session is { State: SessionState.Closed } && _tasks.CountOf(TaskState.Pending) == 0 && _tasks.CountOf(TaskState.Running) == 0;

    private void NotifyTerminalWatchers()
    {
        foreach (var taskId in _watchers.Keys.ToList())
            if (_tasks.StateOf(taskId).IsTerminal())
                Notify(taskId);
    }

    private void AddEvent(int code, string message, long now)
    {
        var events = _session!.Events;
        if (events.Count >= MaxSessionEvents)
            events.RemoveAt(1); // keep the creation event, drop the oldest after it
        events.Add(new FlameEvent { Code = code, Message = message, CreationTime = now });
        SessionChanged();
    }

    private async Task CreateCoreAsync(SessionSpec spec)
    {
        _creating = true;
        try
        {
            await CreateSessionAsync(spec);
        }
        catch
        {
            _session = null;
            DeactivateOnIdle(); // a refused create leaves no activation behind
            throw;
        }
        finally
        {
            _creating = false;
        }
    }

    private async Task CreateSessionAsync(SessionSpec spec)
    {
        FlameIds.ValidateSessionId(Id);
        SessionSpecs.Validate(spec, _limits);
        var application = await GrainFactory
            .GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
            .GetAsync(spec.Application);
        if (application.State != ApplicationState.Enabled)
            throw FlameException.InvalidArgument($"application '{spec.Application}' is disabled; it accepts no new sessions");
        if (spec.Owner is { } owner)
            await GrainFactory.GetGrain<ISessionOwnerGrain>(owner).OpenAsync(Id, _limits.MaxOpenSessionsPerOwner);
        try
        {
            await GrainFactory.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).AddAsync(Id);
            var now = Now;
            _session = new SessionData(Resolved(spec), application, now);
            AddEvent(SessionEventCodes.Created, "created", now);
            await Durable();
        }
        catch when (spec.Owner is not null)
        {
            _ = GrainFactory.GetGrain<ISessionOwnerGrain>(spec.Owner).ClosedAsync(Id); // not created: not counted
            throw;
        }
        ReportDemand(force: true);
        LogCreated(Id, spec.Application);
    }

    /// <summary>
    /// <paramref name="spec"/> with its resource requirement resolved as Flame does: one given (even all zeros) is kept,
    /// none is the cluster's default (<c>Flame:Execution:DefaultResReq</c>).
    /// </summary>
    private SessionSpec Resolved(SessionSpec spec) =>
        spec.ResReq is null ? spec with { ResReq = _defaultResReq ??= _execution.DefaultResourceRequirement } : spec;

    private SessionData Existing()
    {
        if (_session is null)
        {
            // Don't keep activations of ids that were never created (unless one is being created right now).
            if (!_creating)
                DeactivateOnIdle();
            throw NotFound();
        }
        return _session;
    }

    private void ExistingTask(long taskId)
    {
        Existing();
        if (!_tasks.Contains(taskId))
            throw FlameException.NotFound($"task {taskId} not found in session '{Id}'");
    }

    private FlameException NotFound() => FlameException.NotFound($"session '{Id}' not found");

    private SessionInfo View()
    {
        var s = _session!;
        return new SessionInfo
        {
            Id = Id,
            Spec = s.Spec,
            Status = new SessionStatus
            {
                State = s.State,
                CreationTime = s.CreationTime,
                CompletionTime = s.CompletionTime,
                Pending = _tasks.CountOf(TaskState.Pending),
                Running = _tasks.CountOf(TaskState.Running),
                Succeed = _tasks.CountOf(TaskState.Succeed),
                Failed = _tasks.CountOf(TaskState.Failed),
                Cancelled = _tasks.CountOf(TaskState.Cancelled),
                Events = s.Events.ToArray(),
            },
        };
    }

    private sealed class SessionData(SessionSpec spec, ApplicationInfo application, long creationTime)
    {
        public SessionSpec Spec { get; } = spec;
        public ApplicationInfo Application { get; } = application;
        public SessionState State { get; set; } = SessionState.Open;
        public long CreationTime { get; } = creationTime;
        public long? CompletionTime { get; set; }
        public List<FlameEvent> Events { get; } = [];
    }

    /// <summary>An executor bound to the session: the task it runs and its pending long-poll, if any.</summary>
    private sealed class ExecutorSlot
    {
        /// <summary>
        /// The tasks handed to the executor and not completed, in the order handed: the first is the one its service
        /// runs. One at most, unless it asks with a window (<see cref="ExchangeTasksAsync"/>).
        /// </summary>
        public List<HeldTask> Held { get; } = [];
        /// <summary>How many tasks this executor was given (the last one's launch number): see <see cref="TaskInfo.Launch"/>.</summary>
        public long Launch { get; set; }
        public long IdleSince { get; set; }
        public TaskCompletionSource<long>? Waiter { get; set; }
        public bool Detached { get; set; }
        public string? PreemptedFor { get; set; }
        public string? PreemptionReason { get; set; }
        public bool Unbinding { get; set; }
        /// <summary>It said it runs no more tasks (a window exchange with window 0): none of those it holds started.</summary>
        public bool Leaving { get; set; }
    }

    private readonly record struct HeldTask(long TaskId, long Launch);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} created for application {Application}")]
    private partial void LogCreated(string sessionId, string application);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} closed; {Cancelled} pending task(s) cancelled")]
    private partial void LogClosed(string sessionId, int cancelled);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} deleted")]
    private partial void LogDeleted(string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} restored from the task store: {Tasks} task(s), {Lost} running task(s) lost an attempt")]
    private partial void LogRestored(string sessionId, int tasks, int lost);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: writing {Tasks} task change(s) to the task store failed; retrying")]
    private partial void LogFlushFailed(Exception exception, string sessionId, int tasks);
}
