using Flame.Storage;

namespace Flame.Grains.Sessions;

public sealed partial class SessionGrain : ISessionJournalTarget
{
    private ResourceRequirement? _defaultResReq;

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
            var now = Now;
            _session = new SessionData(Resolved(spec), application, now);
            Observe();
            AddEvent(SessionEventCodes.Created, "created", now);
            await _journal.Durable();
        }
        catch when (spec.Owner is not null)
        {
            _ = GrainFactory.GetGrain<ISessionOwnerGrain>(spec.Owner).ClosedAsync(Id); // not created: not counted
            throw;
        }
        _demand.Report(force: true);
        LogCreated(Id, spec.Application);
    }

    /// <summary>
    /// <paramref name="spec"/> with its resource requirement resolved as Flame does: one given (even all zeros) is kept,
    /// none is the cluster's default (<c>Flame:Execution:DefaultResReq</c>).
    /// </summary>
    private SessionSpec Resolved(SessionSpec spec) =>
        spec.ResReq is null ? spec with { ResReq = _defaultResReq ??= _execution.DefaultResourceRequirement } : spec;

    private void AddEvent(int code, string message, long now)
    {
        var events = _session!.Events;
        if (events.Count >= MaxSessionEvents)
            events.RemoveAt(1); // keep the creation event, drop the oldest after it
        events.Add(new FlameEvent { Code = code, Message = message, CreationTime = now });
        _journal.SessionChanged();
    }

    /// <summary>
    /// Delays the collection of this activation while it has something to do (tasks to run, executors, watchers,
    /// changes not yet written): only an idle session leaves memory. The check's timer does not itself keep the grain.
    /// </summary>
    private void KeepWhileBusy()
    {
        var age = _limits.IdleSessionLifetime;
        var period = age / 2;
        this.RegisterGrainTimer(() =>
        {
            if (Busy())
                DelayDeactivation(age);
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(period, period) { Interleave = true, KeepAlive = false });
    }

    private bool Busy() =>
        _session is not null && (_creating || _tasks.CountOf(TaskState.Pending) > 0 || _tasks.CountOf(TaskState.Running) > 0
                                 || _dispatcher.Count > 0 || _watchers.Any || !_journal.AllPublished
                                 || (_session.State == SessionState.Open && _session.Spec.MinInstances > 0));

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Out of memory, out of the scheduler's view: an idle session has no demand, and it reports again when it is
        // back. Otherwise the view would keep a row for every session ever touched.
        if (_session is not null && !Busy())
            _ = Scheduler.ReportSessionAsync(Demand() with { Deleted = true });
        StopObserving(); // and out of the metrics' gauges
        return Task.CompletedTask;
    }

    /// <summary>Closed with nothing pending or running: no task will change again.</summary>
    private bool IsDone() =>
        _session is { State: SessionState.Closed } && _tasks.CountOf(TaskState.Pending) == 0 && _tasks.CountOf(TaskState.Running) == 0;

    /// <summary>A task changed: it is written by the next flush, and its watchers hear of it once that is durable.</summary>
    private void Notify(long taskId) => _journal.TaskChanged(taskId, publish: _watchers.Any);

    private void Notify(List<long> taskIds)
    {
        foreach (var taskId in taskIds)
            Notify(taskId);
    }

    private void NotifyTerminalWatchers()
    {
        foreach (var taskId in _watchers.WatchedTasks())
            if (_tasks.StateOf(taskId).IsTerminal())
                Notify(taskId);
    }

    /// <summary>A one-shot timer on the grain's scheduler, interleaving with its calls.</summary>
    private IDisposable OneShot(Func<Task> callback, TimeSpan due) =>
        this.RegisterGrainTimer(callback, new GrainTimerCreationOptions { DueTime = due, Period = Timeout.InfiniteTimeSpan, Interleave = true });

    // ---- ISessionJournalTarget -----------------------------------------------------------------------

    /// <summary>Task rows per store call: a session closing with a million pending tasks writes in slices.</summary>
    private const int WriteSlice = 5000;

    string ISessionJournalTarget.SessionId => Id;

    long ISessionJournalTarget.TaskCount => _tasks.Count;

    StoredSession? ISessionJournalTarget.SessionRow() => _session is not { } s ? null : new StoredSession
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

    // Finished, written and told already (a finished task does not change): nothing to write, and its payloads are in
    // the store only.
    StoredTask? ISessionJournalTarget.TaskRow(long taskId, bool withInput) =>
        _tasks.PayloadsInStore(taskId) ? null : _tasks.Snapshot(taskId, withInput);

    // Its finished state was published with the flush that wrote it, before its payloads were dropped; again (a close
    // re-notifying finished tasks' watchers) it would go to session watchers without them.
    TaskInfo? ISessionJournalTarget.PublishedForm(long taskId) =>
        _tasks.PayloadsInStore(taskId) ? null : _tasks.Get(taskId, Id);

    Task ISessionJournalTarget.WriteAsync(StoredSession? session, List<StoredTask> tasks)
    {
        var writes = new List<Task>(1 + tasks.Count / WriteSlice);
        if (session is not null)
            writes.Add(_store.SaveSessionAsync(session));
        for (var i = 0; i < tasks.Count; i += WriteSlice)
            writes.Add(_store.WriteTasksAsync(Id, tasks.GetRange(i, Math.Min(WriteSlice, tasks.Count - i))));
        return Task.WhenAll(writes);
    }

    void ISessionJournalTarget.Flushed(IReadOnlyList<StoredTask> written, List<TaskInfo> published)
    {
        _watchers.Publish(published);
        // Told and durable: large payloads of finished tasks now live in the store only.
        if (_session is null)
            return;
        foreach (var task in written)
            if (((TaskState)task.State).IsTerminal())
                _tasks.DropPayloads(task.Id, _limits.FinishedPayloadInMemoryBytes);
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
}
