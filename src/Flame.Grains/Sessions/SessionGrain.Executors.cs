using Flame.Grains.Executors;

namespace Flame.Grains.Sessions;

public sealed partial class SessionGrain : IDispatchHost
{
    private int _bindingFailures;
    // Flame's retry limit was reached: the session gets no more executors (in memory, as Flame's counter).
    private bool _bindingPaused;
    private IGrainTimer? _executorCheck;

    // ---- Executors: binding (through their executor grain) ---------------------------------------

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
        _dispatcher.Attach(executorId);
        _bindingFailures = 0;
        ExecutorsChanged();
        return Task.CompletedTask;
    }

    public Task DetachExecutorAsync(string executorId, string reason) => DetachExecutorsAsync([executorId], reason);

    public Task DetachExecutorsAsync(IReadOnlyList<string> executorIds, string reason)
    {
        if (_session is null)
            return Task.CompletedTask;
        _dispatcher.Detach(executorIds, reason);
        _demand.Report(force: true);
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
            Notify(ids);
            AddEvent(SessionEventCodes.RetryLimitReached,
                $"Session retry limit reached after {_bindingFailures}/{limit} failed attempts; {failed} pending task(s) failed (Flame:Execution:FailPendingTasksAtBindingLimit).", now);
            NotifyTerminalWatchers();
            _demand.Report(force: true);
            _bindingFailures = 0;
        }
        else if (!_bindingPaused)
        {
            // Flame's words: clients and operators of Flame look for them.
            _bindingPaused = true;
            AddEvent(SessionEventCodes.RetryLimitReached,
                $"Session retry limit reached after {_bindingFailures}/{limit} failed attempts; new executor assignment is paused for this session; existing executors are unchanged.", now);
            _demand.Report(force: true);
        }
        return Task.CompletedTask;
    }

    // ---- Executors: the task exchange (through the gateway) ----------------------------------------

    public Task<TaskHandout> ExchangeTaskAsync(string executorId, TaskExchange exchange)
    {
        // Giving back never fails: the gateway gives back what it could not deliver, whatever became of the session.
        if (exchange.Kind != TaskExchangeKind.GiveBack)
            Existing();
        else if (_session is null)
            return Task.FromResult(TaskHandout.None);
        return _dispatcher.ExchangeAsync(executorId, exchange);
    }

    // ---- The scheduler ---------------------------------------------------------------------------

    public Task PreemptExecutorAsync(string executorId, string forSession, string reason)
    {
        if (_session is not null)
            _dispatcher.Preempt(executorId, forSession, reason);
        return Task.CompletedTask;
    }

    public Task RecordDecisionAsync(int code, string message)
    {
        if (_session is not null)
            AddEvent(code, message, Now);
        return Task.CompletedTask;
    }

    private ISchedulerGrain Scheduler => _scheduler ??= GrainFactory.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);
    private ISchedulerGrain? _scheduler;

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
        if (_dispatcher.Count == 0)
            return;
        var ids = _dispatcher.ExecutorIds();
        var lookups = await Task.WhenAll(ids.Select(id => ExecutorLookup.AskAsync(GrainFactory, id)));
        var gone = ids.Where((id, i) => lookups[i].Gone && _dispatcher.IsAttached(id)).ToList();
        if (gone.Count == 0)
            return;
        await DetachExecutorsAsync(gone, "its executor was lost with the silo that held it");
        foreach (var id in gone)
            ExecutorLookup.ReportGone(GrainFactory, id);
    }

    // ---- IDispatchHost -----------------------------------------------------------------------------

    string IDispatchHost.SessionId => Id;

    TaskTable IDispatchHost.Tasks => _tasks;

    bool IDispatchHost.TryGetTerms(out DispatchTerms terms)
    {
        if (_session is not { } s)
        {
            terms = default;
            return false;
        }
        terms = new DispatchTerms(s.State == SessionState.Closed, s.Spec.MinInstances,
            1000L * (s.Application.Spec.DelayRelease ?? _execution.DefaultDelayReleaseSeconds));
        return true;
    }

    void IDispatchHost.TaskChanged(long taskId) => Notify(taskId);

    void IDispatchHost.WorkChanged() => _demand.Report(force: false);

    void IDispatchHost.ExecutorsChanged() => ExecutorsChanged();

    /// <summary>Executors came or went: the scheduler hears of it now, and the executors are watched for loss.</summary>
    private void ExecutorsChanged()
    {
        WatchExecutors();
        _demand.Report(force: true);
    }

    void IDispatchHost.Unbound(string executorId, string reason, int code) =>
        AddEvent(code, $"executor '{executorId}' unbound: {reason}", Now);
}
