using Flame.Grains.Hosting;
using Flame.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flame.Grains.Sessions;

/// <summary>One session and its task queue. See <see cref="ISessionGrain"/>.</summary>
/// <remarks>
/// The grain keeps the Orleans concerns (activation and restore, grain calls, timers, observers) and routes the rest
/// to plain parts: the task table (<see cref="TaskTable"/>), the write journal (<see cref="SessionJournal"/>), the
/// executors (<see cref="ExecutorDispatcher"/>, with <see cref="TaskOutcomes"/>), the scheduler's view
/// (<see cref="DemandReporter"/>) and the watchers (<see cref="WatcherFanOut"/>).
/// <para>
/// The hot path (create, exchange) is O(1) and touches no other grain: tasks are handed straight to executors waiting
/// in <see cref="ExchangeTaskAsync"/>, and the scheduler hears of the session's demand only when it changes in a way
/// that matters.
/// </para>
/// <para>
/// Durability: every change marks the task (or the session row) dirty; one flush at a time writes what is dirty to the
/// <see cref="ITaskStore"/>, which commits the flushes of all sessions together. Nothing a client is told waits for
/// less: a reply about a change (an accepted task, a closed session, a view) waits for the flush that holds it, and
/// watchers hear of a change only once it is durable. Executors get their next task without waiting: if the silo
/// dies before a Running state is written, the task simply runs again.
/// </para>
/// </remarks>
// Its state is in the task store: an idle session leaves memory after Flame:Limits:IdleSessionLifetime (the collection
// age AddFlameGrains sets) and comes back from the store when called; a busy one keeps itself (KeepWhileBusy).
public sealed partial class SessionGrain : Grain, ISessionGrain
{
    private const int MaxSessionEvents = 1000;

    private readonly FlameLimitsOptions _limits;
    private readonly FlameExecutionOptions _execution;
    // Creates already made, by the idempotency key of their call (issue 21): a retried create gets the same tasks.
    private readonly IdempotencyWindow _idempotency = new();
    private readonly ITaskStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<SessionGrain> _logger;
    private readonly SessionJournal _journal;
    private readonly WatcherFanOut _watchers;
    private readonly DemandReporter _demand;
    private readonly ISessionDeletionHook[] _deletionHooks;
    private readonly TaskOutcomes _outcomes;
    private readonly ExecutorDispatcher _dispatcher;
    private SessionData? _session;
    private TaskTable _tasks = new();
    private bool _creating;

    /// <summary>Builds the grain and its parts.</summary>
    public SessionGrain(
        IOptions<FlameLimitsOptions> limits,
        IOptions<FlameExecutionOptions> execution,
        ITaskStore store,
        TimeProvider clock,
        ILogger<SessionGrain> logger,
        IEnumerable<ISessionDeletionHook> deletionHooks)
    {
        _deletionHooks = [.. deletionHooks];
        _limits = limits.Value;
        _execution = execution.Value;
        _store = store;
        _clock = clock;
        _logger = logger;
        _journal = new SessionJournal(this, clock, logger);
        _watchers = new WatcherFanOut(() => IsDone() && _journal.AllPublished, OneShot);
        _demand = new DemandReporter(() => _session is null ? null : Demand(), d => Scheduler.ReportSessionAsync(d), OneShot);
        _outcomes = new TaskOutcomes(() => _tasks, _limits, _execution, clock, Notify);
        _dispatcher = new ExecutorDispatcher(this, _outcomes, _execution, clock);
    }

    // Cached: GetPrimaryKeyString builds a new string, and the hot path uses it for every task.
    private string Id => _id ??= this.GetPrimaryKeyString();
    private string? _id;

    private long Now => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- Activation: restore from the task store --------------------------------------------------

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        KeepWhileBusy();
        var row = await _store.LoadSessionAsync(Id, cancellationToken);
        if (row is null)
            return;
        _dispatcher.Restored();
        var form = StoredForms.Read<StoredSessionForm>(row.Json);
        _session = new SessionData(form.Spec, form.Application, form.CreationTime)
        {
            State = form.State,
            CompletionTime = form.CompletionTime,
        };
        Observe();
        _session.Events.AddRange(form.Events);
        if (form.State == SessionState.Open && form.Spec.Owner is { } owner)
            _ = GrainFactory.GetGrain<ISessionOwnerGrain>(owner).RestoredAsync(Id); // one-way
        await foreach (var task in _store.LoadTasksAsync(Id, 0, cancellationToken))
        {
            _tasks.Restore(task);
            _idempotency.Restore(task, Now); // keys outlive the silo: stored with their first task
            // Finished and stored: large payloads stay there (a restored session of millions of results is not loaded whole).
            if (((TaskState)task.State).IsTerminal())
                _tasks.DropPayloads(task.Id, _limits.FinishedPayloadInMemoryBytes);
        }
        _journal.Restored(_tasks.Count);

        // Running here means running when the silo that held the session stopped: that attempt is lost.
        var lost = _tasks.IdsIn(TaskState.Running);
        foreach (var taskId in lost)
            _outcomes.FailAttempt(taskId, "the silo that held the session stopped while the task ran");
        // An idle session left memory on purpose and comes back often: that is not news. One that had work (or keeps
        // executors) only leaves memory with its silo, and that is an event its users see.
        if (_tasks.CountOf(TaskState.Pending) > 0 || lost.Count > 0
            || (_session.State == SessionState.Open && _session.Spec.MinInstances > 0))
            AddEvent(SessionEventCodes.Restored,
                $"restored from the task store: {_tasks.Count} task(s), {lost.Count} running task(s) lost an attempt", Now);
        // A line each only where attempts were lost (as many as there were executors, not sessions): a restart's
        // sessions with pending work come back under the recovery's one summary line (1199).
        if (lost.Count > 0)
            LogRestored(Id, _tasks.Count, lost.Count);
        else
            LogReactivated(Id, _tasks.Count);
        _demand.Report(force: true);
    }

    public Task WakeAsync()
    {
        // Activating restored it and reported its demand; a session that was active already (it outlived the silo that
        // held the scheduler) reports again, for the new scheduler knows nothing of it.
        _demand.Report(force: true);
        return Task.CompletedTask;
    }

    // ---- Frontend -------------------------------------------------------------------------------

    public async Task<SessionInfo> CreateAsync(SessionSpec spec)
    {
        if (_session is not null)
            throw FlameException.AlreadyExists($"session '{Id}' already exists");
        StoredForms.CheckRoom(_store, $"session '{Id}' was not created");
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
            StoredForms.CheckRoom(_store, $"session '{Id}' was not created");
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
            Notify(ids);
            NotifyTerminalWatchers();
            _dispatcher.WakeAll(); // nothing more will come: idle executors should unbind now
            _demand.Report(force: true);
            if (session.Spec.Owner is { } owner)
                _ = GrainFactory.GetGrain<ISessionOwnerGrain>(owner).ClosedAsync(Id); // one-way
            LogClosed(Id, cancelled);
        }
        return _journal.DurableAsync(View());
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
        _journal.Forget();
        await _store.DeleteSessionAsync(Id);
        // Awaited, so that what goes with the session (its cached objects) is gone when the caller hears it deleted.
        foreach (var hook in _deletionHooks)
            await hook.SessionDeletedAsync(session.Spec.Application, Id);
        _ = _demand.Deleted(Demand() with { Deleted = true, Open = false });
        StopObserving();
        _session = null;
        _tasks = new TaskTable();
        _watchers.Clear();
        _dispatcher.Clear();
        _executorCheck?.Dispose();
        _executorCheck = null;
        DeactivateOnIdle();
        LogDeleted(Id);
        return last;
    }

    public Task<SessionInfo> GetAsync()
    {
        Existing();
        return _journal.DurableAsync(View());
    }

    // ---- Tasks: the create side (a create repeated with its idempotency key gets the tasks made the first time) -----

    public Task<TaskInfo> CreateTaskAsync(byte[]? input)
    {
        var key = KeyOfCall();
        if (key is not null && _idempotency.TryGet(key, 1, Now, out var made))
            return _journal.DurableAsync(_tasks.Get(made, Id));
        CheckAccepting();
        StoredForms.CheckRoom(_store, $"session '{Id}': no task was created");
        if (input is not null && input.Length > _limits.MaxTaskInputBytes)
            throw FlameException.InvalidArgument(
                $"task input is {input.Length} bytes; the limit is {_limits.MaxTaskInputBytes} (Flame:Limits:MaxTaskInputBytes)");
        TaskLimits.CheckCreate(Id, _tasks.CountOf(TaskState.Pending), 1, _limits);
        var id = _tasks.Add(input, Now);
        RememberKey(key, id, 1);
        _journal.TaskChanged(id, publish: false);
        var created = _tasks.Get(id, Id);
        Created();
        return _journal.DurableAsync(created);
    }

    public Task<long> CreateTasksAsync(IReadOnlyList<byte[]?> inputs)
    {
        var key = KeyOfCall(); // one key covers the whole batch
        if (key is not null && _idempotency.TryGet(key, inputs.Count, Now, out var made))
            return _journal.DurableAsync(made);
        CheckAccepting();
        StoredForms.CheckRoom(_store, $"session '{Id}': no task was created");
        if (inputs.Count == 0)
            throw FlameException.InvalidArgument("no inputs: CreateTasks needs at least one");
        TaskLimits.CheckCreate(Id, _tasks.CountOf(TaskState.Pending), inputs.Count, _limits);
        for (var i = 0; i < inputs.Count; i++)
            if (inputs[i] is { Length: var size } && size > _limits.MaxTaskInputBytes)
                throw FlameException.InvalidArgument(
                    $"input {i} is {size} bytes; the limit is {_limits.MaxTaskInputBytes} (Flame:Limits:MaxTaskInputBytes); no task was created");
        var now = Now;
        var first = _tasks.Add(inputs[0], now);
        RememberKey(key, first, inputs.Count);
        _journal.TaskChanged(first, publish: false);
        for (var i = 1; i < inputs.Count; i++)
            _journal.TaskChanged(_tasks.Add(inputs[i], now), publish: false);
        Created();
        return _journal.DurableAsync(first);
    }

    /// <summary>The idempotency key of this call, set by the gateway from the gRPC metadata.</summary>
    private static string? KeyOfCall() =>
        RequestContext.Get(IdempotencyKey.Header) is string key ? IdempotencyKey.Validate(key) : null;

    /// <summary>Remembers the create of <paramref name="key"/>, also as an event of its first task: written in the same row, a restore keeps it.</summary>
    private void RememberKey(string? key, long firstId, int count)
    {
        if (key is null)
            return;
        _idempotency.Remember(key, firstId, count, Now);
        _tasks.Note(firstId, IdempotencyWindow.Event(key, count, Now));
    }

    /// <summary>Refuses a create when the session does not exist or is closed.</summary>
    private void CheckAccepting()
    {
        if (Existing().State != SessionState.Open)
            throw FlameException.InvalidArgument($"session '{Id}' is closed; it accepts no more tasks");
    }

    /// <summary>New tasks are queued: waiting executors get them, and the scheduler hears of the work when it matters.</summary>
    private void Created()
    {
        _dispatcher.Dispatch();
        _demand.Report(force: false);
    }
}
