using Flame.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flame.Grains.Executors;

/// <summary>One executor and its state machine. See <see cref="IExecutorGrain"/>.</summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ExecutorGrain(
    IOptions<FlameExecutionOptions> execution,
    TimeProvider clock,
    ILogger<ExecutorGrain> logger) : Grain, IExecutorGrain
{
    private readonly FlameExecutionOptions _execution = execution.Value;
    private ExecutorInfo? _executor;
    private long _idleSince;
    private TaskCompletionSource? _bindWaiter;
    private IGrainTimer? _createTimer;
    private IGrainTimer? _nodeCheck;
    private int _unheldChecks;

    private string Id => this.GetPrimaryKeyString();

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    // Idleness is a duration: on the monotonic clock, so that a wall-clock jump neither releases nor keeps executors.
    private long Monotonic => MonotonicTime.Ms(clock);

    public Task CreateAsync(string node, string? sessionId, ResourceRequirement resReq)
    {
        if (_executor is not null && _executor.State != ExecutorState.Released)
            throw FlameException.AlreadyExists($"executor '{Id}' already exists");
        _executor = new ExecutorInfo { Id = Id, Node = node, ResReq = resReq, State = ExecutorState.Void, SessionId = sessionId };
        // A node that never creates the executor must not hold the slot forever.
        _createTimer = this.RegisterGrainTimer(async () =>
        {
            if (_executor?.State == ExecutorState.Void)
                await ReleaseAsync($"node '{node}' did not register it within {_execution.ExecutorCreateTimeoutSeconds}s");
        }, new GrainTimerCreationOptions(TimeSpan.FromSeconds(_execution.ExecutorCreateTimeoutSeconds), Timeout.InfiniteTimeSpan));
        Report();
        return Task.CompletedTask;
    }

    public async Task<ExecutorInfo> RegisterAsync(ExecutorInfo executor)
    {
        FlameIds.ValidateNodeName(executor.Node);
        if (_executor is { } existing && existing.Node != executor.Node && existing.State != ExecutorState.Released)
            throw FlameException.InvalidArgument($"executor '{Id}' belongs to node '{existing.Node}', not '{executor.Node}'");
        var from = _executor?.State ?? ExecutorState.Void;
        if (from is ExecutorState.Idle or ExecutorState.Binding or ExecutorState.Bound && _executor!.Node == executor.Node)
            return _executor; // registered twice (a retried call): nothing to do
        ExecutorStateMachine.Move(Id, from, ExecutorState.Idle, "RegisterExecutor");
        var intended = from == ExecutorState.Void ? _executor?.SessionId : null;
        _createTimer?.Dispose();
        _createTimer = null;
        _executor = new ExecutorInfo
        {
            Id = Id,
            Node = executor.Node,
            // What the scheduler asked the node for, when it asked: node accounting must hold that, not the
            // executor manager's fixed report.
            ResReq = from == ExecutorState.Void && _executor is not null ? _executor.ResReq : executor.ResReq,
            Shim = executor.Shim,
            State = ExecutorState.Idle,
        };
        _idleSince = Monotonic;
        WatchNode();
        await GrainFactory.GetGrain<INodeGrain>(executor.Node).ExecutorRegisteredAsync(_executor);
        if (intended is not null)
            await AssignAsync(intended);
        else
            Report();
        LogRegistered(Id, executor.Node);
        return _executor;
    }

    public async Task<PollResult<SessionBinding>> BindAsync()
    {
        var executor = Existing();
        if (executor.State == ExecutorState.Released)
            // NOT_FOUND, not FAILED_PRECONDITION: the executor manager must end this worker and free its slot
            // (it was released behind its back, e.g. its node was declared dead while it was only paused).
            throw FlameException.NotFound($"executor '{Id}' was released; register a new executor");
        if (executor.State == ExecutorState.Releasing)
            return PollResult<SessionBinding>.Done; // released by the scheduler (or for idleness): unregister
        if (executor.State is not (ExecutorState.Idle or ExecutorState.Binding))
            throw FlameException.FailedPrecondition($"executor '{Id}' is {executor.State}; BindExecutor needs it Idle");
        if (executor.State == ExecutorState.Idle)
        {
            var releaseAt = _idleSince + 1000L * _execution.ExecutorIdleTimeoutSeconds;
            var now = Monotonic;
            if (now >= releaseAt)
                return ReleaseForIdleness();
            _bindWaiter?.TrySetResult(); // a newer poll replaces an older one
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _bindWaiter = waiter;
            var slice = TimeSpan.FromMilliseconds(Math.Min(releaseAt - now, (long)_execution.LongPollSlice.TotalMilliseconds));
            await Task.WhenAny(waiter.Task, Task.Delay(slice, clock));
            if (_bindWaiter == waiter)
                _bindWaiter = null;
            if (_executor?.State != ExecutorState.Binding)
            {
                if (_executor?.State == ExecutorState.Idle && Monotonic >= releaseAt)
                    return ReleaseForIdleness();
                return _executor?.State == ExecutorState.Idle ? PollResult<SessionBinding>.Wait : PollResult<SessionBinding>.Done;
            }
        }
        var sessionId = _executor!.SessionId!;
        try
        {
            var binding = await GrainFactory.GetGrain<ISessionGrain>(sessionId).GetBindingAsync();
            // Reported with the next state change (BindExecutorCompleted), which the scheduler waits for anyway. Only a
            // service that is kept after the session is worth coming back to.
            if (_executor?.State == ExecutorState.Binding)
                _executor = _executor with { Application = binding.ReuseService ? binding.Application.Name : null };
            return PollResult<SessionBinding>.Of(binding);
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
        {
            // The session went away between the assignment and now: back to idle.
            if (_executor?.State == ExecutorState.Binding && _executor.SessionId == sessionId)
                SetState(ExecutorState.Idle, sessionId: null);
            return PollResult<SessionBinding>.Wait;
        }
    }

    public Task<bool> AssignAsync(string sessionId)
    {
        if (Existing().State != ExecutorState.Idle) // NotFound: the scheduler drops an executor the cluster lost
            return Task.FromResult(false);
        SetState(ExecutorState.Binding, sessionId);
        _bindWaiter?.TrySetResult();
        return Task.FromResult(true);
    }

    public async Task BindCompletedAsync(int returnCode, string? message)
    {
        var executor = Existing();
        var sessionId = executor.SessionId;
        if (returnCode == 0)
        {
            ExecutorStateMachine.Move(Id, executor.State, ExecutorState.Bound, "BindExecutorCompleted");
            try
            {
                await GrainFactory.GetGrain<ISessionGrain>(sessionId!).AttachExecutorAsync(Id);
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
            {
                // The session is gone; LaunchTask will say there is no work, and the executor unbinds.
            }
            SetState(ExecutorState.Bound, sessionId);
            CountBind(bound: true, executor.BoundAt);
            LogBound(Id, sessionId!);
        }
        else
        {
            ExecutorStateMachine.Move(Id, executor.State, ExecutorState.Idle, "BindExecutorCompleted (failed)");
            _executor = _executor! with { Application = null }; // its service was stopped
            SetState(ExecutorState.Idle, sessionId: null);
            CountBind(bound: false, null);
            var reason = string.IsNullOrWhiteSpace(message) ? "OnSessionEnter failed" : message;
            LogBindFailed(Id, sessionId!, reason);
            // Flame's event 1001 text: its clients look for "failed to bind session" and the service's own words.
            await GrainFactory.GetGrain<ISessionGrain>(sessionId!).ReportBindingFailedAsync(Id,
                $"Executor <{Id}> on node <{executor.Node}> failed to bind session with return_code <{returnCode}>: {reason}");
        }
    }

    public async Task UnbindAsync()
    {
        var executor = Existing();
        ExecutorStateMachine.Move(Id, executor.State, ExecutorState.Unbinding, "UnbindExecutor");
        SetState(ExecutorState.Unbinding, executor.SessionId);
        await DetachAsync(executor.SessionId, "the executor unbound");
    }

    public Task UnbindCompletedAsync()
    {
        var executor = Existing();
        ExecutorStateMachine.Move(Id, executor.State, ExecutorState.Idle, "UnbindExecutorCompleted");
        SetState(ExecutorState.Idle, sessionId: null);
        return Task.CompletedTask;
    }

    public Task<bool> ReleaseIdleAsync(string reason)
    {
        if (Existing().State != ExecutorState.Idle)
            return Task.FromResult(false);
        SetState(ExecutorState.Releasing, sessionId: null);
        _bindWaiter?.TrySetResult(); // a waiting BindExecutor answers "no more work" now
        LogReleasingByScheduler(Id, reason);
        return Task.FromResult(true);
    }

    public Task UnregisterAsync() => ReleaseAsync("the executor manager unregistered it");

    public Task LostAsync(string reason) => ReleaseAsync(reason);

    public Task<ExecutorInfo> GetAsync() => Task.FromResult(Existing());

    public Task ReportAsync()
    {
        if (_executor is null)
            Forget();
        else
            Report();
        return Task.CompletedTask;
    }

    public async Task<string?> LoseAsync(string reason) => await ReleaseAsync(reason, detach: false);

    private async Task<string?> ReleaseAsync(string reason, bool detach = true)
    {
        if (_executor is not { } executor)
        {
            Forget();
            return null;
        }
        if (executor.State == ExecutorState.Released)
            return null;
        _createTimer?.Dispose();
        _createTimer = null;
        SetState(ExecutorState.Released, sessionId: null);
        _bindWaiter?.TrySetResult();
        var served = executor.State is ExecutorState.Bound or ExecutorState.Binding or ExecutorState.Unbinding ? executor.SessionId : null;
        if (detach)
            await DetachAsync(served, LostReason(reason));
        await GrainFactory.GetGrain<INodeGrain>(executor.Node).ExecutorReleasedAsync(Id);
        LogReleased(Id, reason);
        DeactivateOnIdle(); // a released executor keeps nothing worth memory; a new registration starts afresh
        return served;
    }

    /// <summary>
    /// Checks every <see cref="FlameExecutionOptions.NodeHeartbeatTimeoutSeconds"/> that the executor's node still
    /// holds it. A node grain that died with its silo comes back knowing nothing, and if its executor manager died
    /// too (one machine ran both) nobody registers it again and nobody notices the silence: without this check the
    /// executor would stay Bound, and its task Running, for ever. Not interleaved, so that no transition is under way
    /// when it releases the executor; the node answers <see cref="INodeGrain.HoldsAsync"/> even while it calls this grain.
    /// </summary>
    private void WatchNode()
    {
        _unheldChecks = 0;
        var every = TimeSpan.FromSeconds(_execution.NodeHeartbeatTimeoutSeconds);
        _nodeCheck ??= this.RegisterGrainTimer(CheckNodeAsync, new GrainTimerCreationOptions(every, every));
    }

    private async Task CheckNodeAsync()
    {
        if (_executor is not { State: not (ExecutorState.Void or ExecutorState.Released) } executor)
            return;
        bool held;
        try
        {
            held = await GrainFactory.GetGrain<INodeGrain>(executor.Node).HoldsAsync(Id);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return; // not an answer: ask again next time
        }
        // Twice in a row: an executor manager that registers its node again (after a silo died) has a heartbeat's time.
        _unheldChecks = held ? 0 : _unheldChecks + 1;
        if (_unheldChecks >= 2 && _executor?.State is not (null or ExecutorState.Released))
            await ReleaseAsync($"node '{executor.Node}' no longer holds it (the silo that held the node died, and its executor manager did not register it again)");
    }

    private string LostReason(string reason) => $"executor '{Id}' was lost: {reason}";

    private PollResult<SessionBinding> ReleaseForIdleness()
    {
        SetState(ExecutorState.Releasing, sessionId: null);
        LogReleasing(Id, _execution.ExecutorIdleTimeoutSeconds);
        return PollResult<SessionBinding>.Done;
    }

    private async Task DetachAsync(string? sessionId, string reason)
    {
        if (sessionId is null)
            return;
        await GrainFactory.GetGrain<ISessionGrain>(sessionId).DetachExecutorAsync(Id, reason);
    }

    private void SetState(ExecutorState state, string? sessionId)
    {
        if (state == ExecutorState.Idle && _executor?.State != ExecutorState.Idle)
            _idleSince = Monotonic;
        // The bind time is what the scheduler's hysteresis looks at: an executor bound a moment ago is not preempted.
        var boundAt = sessionId is null ? null : state == ExecutorState.Binding ? Now : _executor!.BoundAt;
        _executor = _executor! with { State = state, SessionId = sessionId, BoundAt = boundAt };
        Report();
    }

    private void Report() =>
        _ = GrainFactory.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key).ReportExecutorAsync(_executor!);

    /// <summary>An activation that knows no executor (lost with its silo, or released already): views let it go.</summary>
    private void Forget()
    {
        ExecutorLookup.ReportGone(GrainFactory, Id);
        DeactivateOnIdle();
    }

    private ExecutorInfo Existing()
    {
        if (_executor is { } executor)
            return executor;
        // An activation that knows no executor (asked after a release, or after its silo died) holds nothing worth keeping.
        DeactivateOnIdle();
        throw FlameException.NotFound($"executor '{Id}' not found; register it first");
    }
}
