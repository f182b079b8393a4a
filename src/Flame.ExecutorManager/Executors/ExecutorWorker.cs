using Flame.ExecutorManager.Gateway;
using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Shims;
using Flame.ExecutorManager.States;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

/// <summary>
/// One executor: registers with the gateway, then binds to sessions one after another, running each
/// session's service and pulling its tasks, until the gateway has no more work for it or releases it.
/// </summary>
/// <remarks>
/// The pull loop, in the order of the protocol: RegisterExecutor; BindExecutor (a long-poll) → start the service,
/// OnSessionEnter → BindExecutorCompleted; LaunchTask (a long-poll) → OnTaskInvoke → CompleteTask, again and
/// again; UnbindExecutor → OnSessionLeave → stop the service → UnbindExecutorCompleted; BindExecutor again. When the
/// gateway allows the service's reuse (BindExecutorResponse.reuse_service), a service that left its session cleanly
/// stays running while the executor is idle instead: bound next to a session of the same application, it enters that
/// session without a restart; any other binding, a release or a shutdown stops it. A bind without work
/// ends the executor: UnregisterExecutor, and its slot is free. A fault in one binding costs that binding, never
/// the executor or the node.
/// The worker is the state loop (<see cref="ExecutorStateMachine"/>) and the binding's conversation with the gateway;
/// the parts: <see cref="GatewayCalls"/> (every gateway call, one retry policy), <see cref="SessionBinder"/> (the
/// service process and the sessions it enters), <see cref="TaskLoop"/> (a bound executor's tasks, over the task channel
/// chosen for the binding, one by one or in a <see cref="TaskWindowLoop"/>) and <see cref="TaskRunner"/> (one task on
/// the service).
/// </remarks>
internal sealed partial class ExecutorWorker : BackgroundService
{
    /// <summary>The pause after an unexpected fault before the executor asks for work again.</summary>
    private static readonly TimeSpan FaultBackoff = TimeSpan.FromSeconds(1);


    private readonly FlameExecutorManagerOptions _options;
    private readonly string _nodeName;
    private readonly GatewayConnection _gateway;
    private readonly GatewayCalls _calls;
    private readonly SessionBinder _service;
    private readonly ILogger _logger;
    private readonly Action<ExecutorWorker> _ended;
    private readonly ExecutorStateMachine _state = new();
    private readonly Lock _gate = new();

    // The request that never changes, made once.
    private readonly V1.BindExecutorRequest _bindRequest;

    private bool _releaseRequested;
    private CancellationTokenSource? _idleWait;
    private string _sessionId = "";
    // Whether the binding's service may be kept for the next session of its application (BindExecutorResponse.reuse_service).
    private bool _reuseService;
    private int _disposed;
    private int _slotFreed;

    public ExecutorWorker(
        string executorId, V1.ResourceRequirement resreq, FlameExecutorManagerOptions options, string nodeName, GatewayConnection gateway,
        NodeGuard guard, ApplicationPackages packages, ILogger logger, Action<ExecutorWorker> ended)
    {
        ExecutorId = executorId;
        Resreq = resreq;
        _options = options;
        _nodeName = nodeName;
        _gateway = gateway;
        _calls = new GatewayCalls(gateway.Backend, executorId, logger);
        _service = new SessionBinder(executorId, options, gateway.Endpoint, guard, packages, logger);
        _logger = logger;
        _ended = ended;
        _bindRequest = new V1.BindExecutorRequest { ExecutorId = executorId };
    }

    /// <summary>The executor's id, as the gateway chose it.</summary>
    public string ExecutorId { get; }

    /// <summary>What the gateway ordered the executor with, as it registers and as the node reports it.</summary>
    public V1.ResourceRequirement Resreq { get; }

    /// <summary>Where the executor is in its life.</summary>
    public ExecutorWorkerState State => _state.State;

    /// <summary>Completes when the worker has ended (released, refused, or stopped).</summary>
    public Task Completion => ExecuteTask ?? Task.CompletedTask;

    private bool ReleaseRequested
    {
        get
        {
            lock (_gate)
                return _releaseRequested;
        }
    }

    /// <summary>
    /// The gateway releases this executor: it ends once its current binding has ended, at once if it is waiting
    /// for work, and then unregisters.
    /// </summary>
    public void RequestRelease()
    {
        lock (_gate)
        {
            _releaseRequested = true;
            _idleWait?.Cancel();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var registered = false;
        try
        {
            registered = await RegisterAsync(stoppingToken).ConfigureAwait(false);
            if (!registered)
                return;
            _state.MoveTo(ExecutorWorkerState.Idle);
            while (!stoppingToken.IsCancellationRequested && !ReleaseRequested)
            {
                try
                {
                    var bind = await WaitForBindingAsync(stoppingToken).ConfigureAwait(false);
                    if (bind is null)
                        break;
                    if (bind.Application is null && bind.Session is null)
                    {
                        LogNoWork(ExecutorId);
                        break;
                    }
                    await RunBindingAsync(bind, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    LogBindingFault(ex, ExecutorId, _sessionId, _state.State);
                    await AbandonBindingAsync(ex.Message, stoppingToken).ConfigureAwait(false);
                    await Task.Delay(FaultBackoff, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The node is shutting down: the drain below leaves the gateway and the service in order.
        }
        catch (Exception ex)
        {
            LogExecutorFault(ex, ExecutorId);
        }
        finally
        {
            await EndAsync(registered, shuttingDown: stoppingToken.IsCancellationRequested).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        base.Dispose();
        // Nothing is left running, whatever state the loop was in.
        _service.Dispose();
    }

    // ------------------------------------------------------------------ Void → Idle

    private async Task<bool> RegisterAsync(CancellationToken cancellationToken)
    {
        var request = new V1.RegisterExecutorRequest
        {
            ExecutorId = ExecutorId,
            ExecutorSpec = new V1.ExecutorSpec
            {
                Node = _nodeName,
                Resreq = Resreq.Clone(),
                Shim = V1.Shim.Host,
            },
        };
        try
        {
            var result = await _calls.CallAsync(static (b, r, o) => b.RegisterExecutorAsync(r, o), request, "RegisterExecutor", cancellationToken)
                .ConfigureAwait(false);
            if (result.ReturnCode != 0)
            {
                LogRegisterRefused(ExecutorId, result.ReturnCode, result.Message);
                return false;
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            // Registered by an earlier try whose answer was lost.
        }
        catch (RpcException ex)
        {
            LogRegisterFailed(ExecutorId, ex.StatusCode, ex.Status.Detail);
            return false;
        }
        LogRegistered(ExecutorId);
        return true;
    }

    // ------------------------------------------------------------------ Idle

    /// <summary>BindExecutor, cut short if the executor is released meanwhile (then null).</summary>
    private async Task<V1.BindExecutorResponse?> WaitForBindingAsync(CancellationToken stoppingToken)
    {
        CancellationTokenSource wait;
        lock (_gate)
        {
            if (_releaseRequested)
                return null;
            _idleWait = wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        }
        try
        {
            try
            {
                return await _calls.CallAsync(static (b, r, o) => b.BindExecutorAsync(r, o), _bindRequest, "BindExecutor", wait.Token)
                    .ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // The gateway still holds this executor in a binding that we no longer have (it never heard of its
                // end): end it there, as an unbind would have, and ask again. Refusals are logged, not thrown.
                LogBindingOutOfStep(ExecutorId, ex.Status.Detail);
                await EndGatewayBindingAsync(unbind: true, wait.Token).ConfigureAwait(false);
                return await _calls.CallAsync(static (b, r, o) => b.BindExecutorAsync(r, o), _bindRequest, "BindExecutor", wait.Token)
                    .ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested && ReleaseRequested)
        {
            return null;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // The gateway does not know this executor (any more): asking again cannot help; free the slot.
            LogUnknownToGateway(ExecutorId, ex.Status.Detail);
            return null;
        }
        finally
        {
            lock (_gate)
                _idleWait = null;
            wait.Dispose();
        }
    }

    // ------------------------------------------------------------------ Binding → Bound → Unbinding → Idle

    private async Task RunBindingAsync(V1.BindExecutorResponse bind, CancellationToken cancellationToken)
    {
        _sessionId = bind.Session?.Metadata?.Id ?? "";
        _reuseService = bind.ReuseService;
        _state.MoveTo(ExecutorWorkerState.Binding);
        LogBinding(ExecutorId, _sessionId, bind.Application?.Metadata?.Name ?? "");

        var enter = await _service.EnterAsync(bind, _sessionId, cancellationToken).ConfigureAwait(false);
        var completion = new V1.BindExecutorCompletedRequest { ExecutorId = ExecutorId, Result = enter };
        string? refusal = null;
        try
        {
            var answer = await _calls.CallAsync(static (b, r, o) => b.BindExecutorCompletedAsync(r, o), completion, "BindExecutorCompleted", cancellationToken)
                .ConfigureAwait(false);
            if (answer.ReturnCode != 0)
                refusal = $"return code {answer.ReturnCode}: {answer.Message}";
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            refusal = $"{ex.StatusCode}: {ex.Status.Detail}";
        }

        if (enter.ReturnCode != 0 || refusal is not null)
        {
            if (refusal is not null)
            {
                LogBindCompletionRefused(ExecutorId, _sessionId, refusal);
                // The service did enter the session: let it leave before it is stopped.
                if (enter.ReturnCode == 0)
                    await _service.TryLeaveAsync(_options.SessionLeaveTimeout, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                LogBindFailed(ExecutorId, _sessionId, enter.ReturnCode, enter.Message);
            }
            await _service.StopAsync(_sessionId).ConfigureAwait(false);
            _state.MoveTo(ExecutorWorkerState.Idle);
            return;
        }

        _state.MoveTo(ExecutorWorkerState.Bound);
        var shim = _service.Shim!;
        LogBound(ExecutorId, _sessionId, shim.ProcessId);
        var serviceGone = await new TaskLoop(_gateway, _calls, _sessionId, _options).RunAsync(new TaskRunner(shim, ExecutorId, _sessionId, _options.TaskTimeout, _logger), cancellationToken)
            .ConfigureAwait(false);

        _state.MoveTo(ExecutorWorkerState.Unbinding);
        await UnbindAsync(serviceGone, cancellationToken).ConfigureAwait(false);
        _state.MoveTo(ExecutorWorkerState.Idle);
        LogUnbound(ExecutorId, _sessionId);
        _sessionId = "";
    }

    /// <summary>UnbindExecutor, OnSessionLeave (if the service lives), stop the service, UnbindExecutorCompleted.</summary>
    private async Task UnbindAsync(bool serviceGone, CancellationToken cancellationToken)
    {
        var unbind = new V1.UnbindExecutorRequest { ExecutorId = ExecutorId };
        await _calls.CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorAsync(r, o), unbind, "UnbindExecutor", cancellationToken)
            .ConfigureAwait(false);
        var keep = false;
        if (!serviceGone && _service.Shim is { } shim)
        {
            var left = await shim.TryLeaveSessionAsync(_options.SessionLeaveTimeout, cancellationToken).ConfigureAwait(false);
            if (left is null)
                LogSessionLeaveFailed(ExecutorId, _sessionId);
            // Kept for the next session of its application only if the gateway allows it (by default a session gets a fresh
            // process, as in Flame), it left this one cleanly and nothing ends the executor.
            keep = _reuseService && left is { ReturnCode: 0 } && shim.IsAlive && !ReleaseRequested && !cancellationToken.IsCancellationRequested;
        }
        if (keep)
            LogServiceKeptWarm(ExecutorId, _sessionId, _service.Shim!.ProcessId);
        else
            await _service.StopAsync(_sessionId).ConfigureAwait(false);
        var completed = new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId };
        await _calls.CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o), completed, "UnbindExecutorCompleted", cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// After a fault: kill the service of the binding and end the binding at the gateway too, so that its executor
    /// grain is Idle again (BindExecutor would be refused forever otherwise) and the session takes back the tasks it
    /// held. Each call is tried as the state allows and a refusal is logged, not thrown: the gateway may have ended
    /// part of it already. An idle executor's service (kept between sessions, in no one's way) is stopped in order.
    /// </summary>
    private async Task AbandonBindingAsync(string reason, CancellationToken cancellationToken)
    {
        var state = _state.State;
        if (state == ExecutorWorkerState.Idle)
        {
            await _service.StopAsync(_sessionId).ConfigureAwait(false);
            return;
        }
        _service.Dispose();
        if (state is not (ExecutorWorkerState.Binding or ExecutorWorkerState.Bound or ExecutorWorkerState.Unbinding))
            return;
        try
        {
            var ended = false;
            if (state == ExecutorWorkerState.Binding)
            {
                // The grain is Binding unless our completion got through before the fault: then it is Bound.
                var failed = new V1.BindExecutorCompletedRequest
                {
                    ExecutorId = ExecutorId,
                    Result = Failure($"the executor manager failed while binding: {reason}"),
                };
                try
                {
                    var answer = await _calls.CallAsync(static (b, r, o) => b.BindExecutorCompletedAsync(r, o), failed, "BindExecutorCompleted", cancellationToken)
                        .ConfigureAwait(false);
                    ended = answer.ReturnCode == 0;
                }
                catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
                {
                    _calls.Refused("BindExecutorCompleted", ex);
                }
            }
            if (!ended)
                await EndGatewayBindingAsync(unbind: state != ExecutorWorkerState.Unbinding, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sessionId = "";
            _state.MoveTo(ExecutorWorkerState.Idle);
        }
    }

    /// <summary>
    /// Ends the gateway's side of a binding this executor no longer has: UnbindExecutor (if <paramref name="unbind"/>),
    /// then UnbindExecutorCompleted. A refusal is logged, not thrown: the gateway may have ended part of it already.
    /// </summary>
    private async Task EndGatewayBindingAsync(bool unbind, CancellationToken cancellationToken)
    {
        if (unbind)
            await _calls.CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorAsync(r, o), new V1.UnbindExecutorRequest { ExecutorId = ExecutorId },
                "UnbindExecutor", cancellationToken).ConfigureAwait(false);
        await _calls.CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o),
            new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId }, "UnbindExecutorCompleted", cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ Releasing → Released

    /// <summary>
    /// Leaves everything in order: the binding (if any) is ended, the service stopped, the executor unregistered.
    /// While the node shuts down every gateway call is tried once, briefly; the service is stopped in any case.
    /// </summary>
    private async Task EndAsync(bool registered, bool shuttingDown)
    {
        try
        {
            if (shuttingDown)
                await DrainBindingAsync().ConfigureAwait(false);
            else
                await AbandonBindingAsync("the executor ended", CancellationToken.None).ConfigureAwait(false);
            if (_state.State is ExecutorWorkerState.Void or ExecutorWorkerState.Idle)
                _state.MoveTo(ExecutorWorkerState.Releasing);
            // The service is gone: free the slot before the gateway hears of it, since it may ask for a new
            // executor as soon as this one is unregistered.
            FreeSlot();
            if (registered)
            {
                var request = new V1.UnregisterExecutorRequest { ExecutorId = ExecutorId };
                if (shuttingDown)
                    await _calls.CallOnceAsync(static (b, r, o) => b.UnregisterExecutorAsync(r, o), request, "UnregisterExecutor").ConfigureAwait(false);
                else
                    await _calls.CallExpectingResultAsync(static (b, r, o) => b.UnregisterExecutorAsync(r, o), request, "UnregisterExecutor", CancellationToken.None)
                        .ConfigureAwait(false);
            }
            if (_state.State == ExecutorWorkerState.Releasing)
                _state.MoveTo(ExecutorWorkerState.Released);
            LogReleased(ExecutorId);
        }
        catch (Exception ex)
        {
            LogExecutorFault(ex, ExecutorId);
        }
        finally
        {
            _service.Dispose();
            FreeSlot();
        }
    }

    private void FreeSlot()
    {
        if (Interlocked.Exchange(ref _slotFreed, 1) == 0)
            _ended(this);
    }

    private async Task DrainBindingAsync()
    {
        switch (_state.State)
        {
            case ExecutorWorkerState.Idle:
                await _service.StopAsync(_sessionId).ConfigureAwait(false);
                break;
            case ExecutorWorkerState.Binding:
                await _service.StopAsync(_sessionId).ConfigureAwait(false);
                _state.MoveTo(ExecutorWorkerState.Idle);
                break;
            case ExecutorWorkerState.Bound:
                _state.MoveTo(ExecutorWorkerState.Unbinding);
                await _calls.CallOnceAsync(static (b, r, o) => b.UnbindExecutorAsync(r, o), new V1.UnbindExecutorRequest { ExecutorId = ExecutorId }, "UnbindExecutor")
                    .ConfigureAwait(false);
                var leave = _options.SessionLeaveTimeout < GatewayCalls.ShutdownCallTimeout ? _options.SessionLeaveTimeout : GatewayCalls.ShutdownCallTimeout;
                await _service.TryLeaveAsync(leave, CancellationToken.None).ConfigureAwait(false);
                await _service.StopAsync(_sessionId).ConfigureAwait(false);
                await _calls.CallOnceAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o), new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId }, "UnbindExecutorCompleted")
                    .ConfigureAwait(false);
                _state.MoveTo(ExecutorWorkerState.Idle);
                break;
            case ExecutorWorkerState.Unbinding:
                // Shut down half-way through an unbind: finish the part that matters to the gateway.
                await _service.StopAsync(_sessionId).ConfigureAwait(false);
                await _calls.CallOnceAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o), new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId }, "UnbindExecutorCompleted")
                    .ConfigureAwait(false);
                _state.MoveTo(ExecutorWorkerState.Idle);
                break;
        }
    }

    private static V1.Result Failure(string message) => new() { ReturnCode = 1, Message = message };
}
