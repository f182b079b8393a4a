using System.Diagnostics;
using Flame.ExecutorManager.Gateway;
using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Shims;
using Flame.ExecutorManager.States;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using BackendClient = Flame.V1.Backend.BackendClient;

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
/// </remarks>
internal sealed partial class ExecutorWorker : BackgroundService
{
    /// <summary>How long a service that broke its connection mid-task gets to be seen as exited.</summary>
    private static readonly TimeSpan ExitDetectionGrace = TimeSpan.FromSeconds(2);

    /// <summary>The pause after an unexpected fault before the executor asks for work again.</summary>
    private static readonly TimeSpan FaultBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The deadline of each gateway call made while the node shuts down.</summary>
    private static readonly TimeSpan ShutdownCallTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan RetryInitial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(5);

    private readonly FlameExecutorManagerOptions _options;
    private readonly string _nodeName;
    private readonly string _gatewayEndpoint;
    private readonly NodeGuard _guard;
    private readonly ApplicationPackages _packages;
    private readonly BackendClient _backend;
    private readonly GatewayConnection _gateway;
    private readonly ILogger _logger;
    private readonly Action<ExecutorWorker> _ended;
    private readonly ExecutorStateMachine _state = new();
    private readonly Lock _gate = new();

    // The requests that never change, made once: the hot path allocates only what differs per task.
    private readonly V1.BindExecutorRequest _bindRequest;
    private readonly V1.LaunchTaskRequest _launchRequest;

    private bool _releaseRequested;
    private CancellationTokenSource? _idleWait;
    // The service process, kept between sessions of its application (HostShim.Application) while the executor is idle.
    private HostShim? _shim;
    private string _sessionId = "";
    // Whether the binding's service may be kept for the next session of its application (BindExecutorResponse.reuse_service).
    private bool _reuseService;
    private bool _socketPathReported;
    private int _disposed;
    private int _slotFreed;

    public ExecutorWorker(
        string executorId, V1.ResourceRequirement resreq, FlameExecutorManagerOptions options, string nodeName, GatewayConnection gateway,
        NodeGuard guard, ApplicationPackages packages, ILogger logger, Action<ExecutorWorker> ended)
    {
        _guard = guard;
        _packages = packages;
        ExecutorId = executorId;
        Resreq = resreq;
        _options = options;
        _nodeName = nodeName;
        _gatewayEndpoint = gateway.Endpoint;
        _backend = gateway.Backend;
        _gateway = gateway;
        _logger = logger;
        _ended = ended;
        _bindRequest = new V1.BindExecutorRequest { ExecutorId = executorId };
        _launchRequest = new V1.LaunchTaskRequest { ExecutorId = executorId };
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
        _shim?.Dispose();
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
            var result = await CallAsync(static (b, r, o) => b.RegisterExecutorAsync(r, o), request, "RegisterExecutor", cancellationToken)
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
                return await CallAsync(static (b, r, o) => b.BindExecutorAsync(r, o), _bindRequest, "BindExecutor", wait.Token)
                    .ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // The gateway still holds this executor in a binding that we no longer have (it never heard of its
                // end): end it there, as an unbind would have, and ask again. Refusals are logged, not thrown.
                LogBindingOutOfStep(ExecutorId, ex.Status.Detail);
                await EndGatewayBindingAsync(unbind: true, wait.Token).ConfigureAwait(false);
                return await CallAsync(static (b, r, o) => b.BindExecutorAsync(r, o), _bindRequest, "BindExecutor", wait.Token)
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

        var enter = await EnterSessionAsync(bind, cancellationToken).ConfigureAwait(false);
        var completion = new V1.BindExecutorCompletedRequest { ExecutorId = ExecutorId, Result = enter };
        string? refusal = null;
        try
        {
            var answer = await CallAsync(static (b, r, o) => b.BindExecutorCompletedAsync(r, o), completion, "BindExecutorCompleted", cancellationToken)
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
                if (enter.ReturnCode == 0 && _shim is { } shim)
                    await shim.TryLeaveSessionAsync(_options.SessionLeaveTimeout, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                LogBindFailed(ExecutorId, _sessionId, enter.ReturnCode, enter.Message);
            }
            await StopServiceAsync().ConfigureAwait(false);
            _state.MoveTo(ExecutorWorkerState.Idle);
            return;
        }

        _state.MoveTo(ExecutorWorkerState.Bound);
        LogBound(ExecutorId, _sessionId, _shim!.ProcessId);
        var serviceGone = await RunTasksAsync(cancellationToken).ConfigureAwait(false);

        _state.MoveTo(ExecutorWorkerState.Unbinding);
        await UnbindAsync(serviceGone, cancellationToken).ConfigureAwait(false);
        _state.MoveTo(ExecutorWorkerState.Idle);
        LogUnbound(ExecutorId, _sessionId);
        _sessionId = "";
    }

    /// <summary>Starts the service and calls OnSessionEnter; the result goes to BindExecutorCompleted as it is.</summary>
    private async Task<V1.Result> EnterSessionAsync(V1.BindExecutorResponse bind, CancellationToken cancellationToken)
    {
        if (bind.Application is null || bind.Session is null)
        {
            return ShimFailure($"the gateway's bind answer has no {(bind.Application is null ? "application" : "session")}");
        }
        var application = bind.Application;
        var spec = application.Spec ?? new V1.ApplicationSpec();
        var directory = ExecutorDirectory.For(_options.WorkDirectory, ExecutorId);
        if (directory.SocketPathShortened && !_socketPathReported)
        {
            _socketPathReported = true;
            LogSocketPathShortened(ExecutorId, directory.SocketPath, Path.Combine(directory.Root, ExecutorDirectory.SocketFileName), ExecutorDirectory.MaxSocketPathBytes);
        }

        if (_shim is { } warm)
        {
            if (warm.IsAlive && warm.Application is { } running && SameService(running, application))
            {
                LogServiceReused(ExecutorId, _sessionId, warm.ProcessId, application.Metadata?.Name ?? "");
                var entered = await EnterAsync(warm, bind, application, spec, cancellationToken).ConfigureAwait(false);
                if (entered.ReturnCode == 0)
                    return entered;
                // The kept process is the problem, not the session: a fresh one decides.
                LogReusedServiceRefused(ExecutorId, _sessionId, warm.ProcessId, entered.Message ?? "");
            }
            await StopServiceAsync().ConfigureAwait(false);
        }

        try
        {
            // Before anything is fetched: a refused application makes the node download and unpack nothing.
            ServiceLaunch.CheckBeforeInstall(application, _sessionId, ExecutorId, directory, _gatewayEndpoint, _guard, _packages.DirectoryOf(application));
        }
        catch (ServiceStartException ex)
        {
            LogServiceStartFailed(ExecutorId, _sessionId, ex.Message);
            return ShimFailure(ex.Message);
        }

        InstalledPackage? package;
        try
        {
            package = await _packages.InstallAsync(application, cancellationToken).ConfigureAwait(false);
        }
        catch (ApplicationInstallException ex)
        {
            LogServiceStartFailed(ExecutorId, _sessionId, ex.Message);
            return new V1.Result { ReturnCode = InstallFailedCode, Message = $"application installation failed: {ex.Message}" };
        }

        var shim = _shim = new HostShim(directory, application);
        try
        {
            var info = ServiceLaunch.BuildStartInfo(application, _sessionId, ExecutorId, directory, _gatewayEndpoint, _guard, package);
            var started = Stopwatch.GetTimestamp();
            await shim.StartAsync(info, _options.ServiceStartTimeout, cancellationToken).ConfigureAwait(false);
            LogServiceStarted(ExecutorId, _sessionId, shim.ProcessId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            LogTaskChannel(ExecutorId, shim.ProcessId, shim.Tasks!.Name, shim.Tasks.Reason);
        }
        catch (ServiceStartException ex)
        {
            LogServiceStartFailed(ExecutorId, _sessionId, ex.Message);
            return ShimFailure(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The executor's directory or the service log cannot be written: the node's problem, reported with the session.
            LogServiceStartFailed(ExecutorId, _sessionId, ex.Message);
            return ShimFailure($"cannot prepare {directory.Root}: {ex.Message}");
        }
        return await EnterAsync(shim, bind, application, spec, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a process started for <paramref name="running"/> can serve <paramref name="next"/>: the same application,
    /// started the same way (command, arguments, environment, working directory, shim). Changes that do not touch the
    /// process, such as its description or delay_release, do not restart it.
    /// </summary>
    internal static bool SameService(V1.Application running, V1.Application next)
    {
        if (running.Metadata?.Name != next.Metadata?.Name)
            return false;
        var a = running.Spec ?? new V1.ApplicationSpec();
        var b = next.Spec ?? new V1.ApplicationSpec();
        return a.Shim == b.Shim && a.Command == b.Command && a.WorkingDirectory == b.WorkingDirectory
            && a.Image == b.Image && a.Url == b.Url && a.Installer == b.Installer
            && a.Arguments.Equals(b.Arguments) && a.Environments.Equals(b.Environments);
    }

    /// <summary>OnSessionEnter on a running service.</summary>
    private async Task<V1.Result> EnterAsync(
        HostShim shim, V1.BindExecutorResponse bind, V1.Application application, V1.ApplicationSpec spec, CancellationToken cancellationToken)
    {
        var context = new V1.SessionContext
        {
            SessionId = _sessionId,
            Application = new V1.ApplicationContext
            {
                Name = application.Metadata?.Name ?? "",
                Shim = spec.Shim,
            },
        };
        if (spec.HasImage)
            context.Application.Image = spec.Image;
        if (spec.HasCommand)
            context.Application.Command = spec.Command;
        if (spec.HasWorkingDirectory)
            context.Application.WorkingDirectory = spec.WorkingDirectory;
        if (spec.HasUrl)
            context.Application.Url = spec.Url;
        if (spec.HasInstaller)
            context.Application.Installer = spec.Installer;
        if (bind.Session!.Spec is { HasCommonData: true } sessionSpec)
            context.CommonData = sessionSpec.CommonData;

        try
        {
            var entered = await shim.Client.OnSessionEnterAsync(context, cancellationToken: cancellationToken).ConfigureAwait(false);
            return entered.ReturnCode == 0 ? entered : EnterFailure(entered.HasMessage ? entered.Message : $"the service returned code {entered.ReturnCode}");
        }
        catch (RpcException ex)
        {
            var reason = await shim.WaitForExitAsync(ExitDetectionGrace).ConfigureAwait(false)
                ? $"the service process exited with code {shim.ExitCode} during OnSessionEnter{await shim.LogTailAsync().ConfigureAwait(false)}"
                : $"OnSessionEnter failed with {ex.StatusCode}: {ex.Status.Detail}";
            return EnterFailure(reason);
        }
    }

    /// <summary>The task loop of a bound executor. True if the service is gone (it died or was killed).</summary>
    private async Task<bool> RunTasksAsync(CancellationToken cancellationToken)
    {
        // The binding's tasks come over one stream (BackendExt.CompleteAndLaunchTasks) while the gateway serves it.
        await using var exchange = new ExchangeStream<V1.CompleteAndLaunchTaskRequest, V1.TaskLaunch>(
            token => _gateway.BackendExt.CompleteAndLaunchTasks(new CallOptions(cancellationToken: token)));
        var launch = await NextTaskAsync(exchange, null, null, 0, cancellationToken).ConfigureAwait(false);
        // Asked for one task: the answer says whether the gateway grants a window.
        if (launch.Task is not null && launch.Window > 1 && _options.TaskWindow > 1 && _gateway.StreamsAvailable)
            return await RunWindowAsync(exchange, launch, (int)Math.Min(launch.Window, (uint)_options.TaskWindow), cancellationToken)
                .ConfigureAwait(false);
        while (launch.Task is { } task)
        {
            var (result, serviceGone, _) = await InvokeAsync(task, sent: false, behind: null, cancellationToken).ConfigureAwait(false);
            var taskId = task.Metadata?.Id ?? "";
            if (serviceGone)
            {
                // The result without asking for another task: this executor has no service to run it.
                await exchange.CloseAsync(cancellationToken).ConfigureAwait(false);
                await CompleteAsync(taskId, result, cancellationToken).ConfigureAwait(false);
                return true;
            }
            launch = await NextTaskAsync(exchange, taskId, result, launch.Launch, cancellationToken).ConfigureAwait(false);
        }
        await exchange.CloseAsync(cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// The task loop with a window: the service runs the held tasks one after another while one exchange at a time
    /// reports the results gathered so far and brings more tasks. Each result is sent as soon as no exchange is in
    /// flight, so a slow task's result is not held back; fast tasks' results share a message. How many tasks it
    /// holds follows how long they run (<see cref="TaskPace"/>): about <see cref="TaskPace.Horizon"/> of work queued
    /// behind the running task, so long tasks are not hoarded by one executor while others wait; and what it holds
    /// goes back unstarted when the running task outlasts <see cref="TaskPace.GiveBackAfter"/>.
    /// </summary>
    private async Task<bool> RunWindowAsync(
        ExchangeStream<V1.CompleteAndLaunchTaskRequest, V1.TaskLaunch> exchange, V1.TaskLaunch first, int maxWindow,
        CancellationToken cancellationToken)
    {
        var queue = new Queue<V1.TaskLaunch>();
        var results = new List<V1.CompletedTask>();
        var pace = new TaskPace(maxWindow);
        Task<V1.TaskLaunch>? inflight = null;
        var inflightHolding = 0;
        // The task sent to the service behind the running one (short tasks only), so that the service finds it
        // waiting when it ends the running one; once chosen it is the service's and is never given back unstarted
        // while the service lives. Only this loop touches it and the queue (never the invocation running meanwhile).
        V1.TaskLaunch? ahead = null;
        var aheadSent = false;
        Task<(V1.TaskResult Result, bool ServiceGone, bool BehindSent)>? running = null;
        var askMore = Take(first);
        try
        {
            while (true)
            {
                var window = pace.Window;
                if (inflight is null && (results.Count > 0 || (askMore && Held() < window)))
                {
                    inflightHolding = Held();
                    inflight = ExchangeWindowAsync(exchange, WindowRequest(results, inflightHolding, window), cancellationToken);
                    results = [];
                }
                V1.TaskLaunch? next = null;
                var sent = false;
                if (ahead is not null)
                    (next, sent, ahead, aheadSent) = (ahead, aheadSent, null, false);
                else if (queue.TryDequeue(out var queued))
                    next = queued;
                if (next is not null)
                {
                    var task = next.Task!;
                    var taskId = task.Metadata?.Id ?? "";
                    var started = Stopwatch.GetTimestamp();
                    if (pace.Window > 1 && _shim!.CanPipeline && queue.TryPeek(out var behind) && FitsBehind(behind.Task!))
                        ahead = queue.Dequeue();
                    var invoke = running = InvokeAsync(task, sent, ahead?.Task, cancellationToken);
                    // Tasks wait behind it in the queue, or may come with the exchange in flight.
                    if ((queue.Count > 0 || inflight is not null) && !invoke.IsCompleted
                        && !await CompletesWithinAsync(invoke, TaskPace.GiveBackAfter).ConfigureAwait(false))
                    {
                        // A long task: what waits behind it goes back, for executors that are free now.
                        if (inflight is not null)
                            Take(await inflight.ConfigureAwait(false));
                        // A task sent behind it stays: it is on the service's stream (or its write is under way),
                        // so it is the service's to run next.
                        var keep = 1 + (ahead is null ? 0 : 1);
                        var giveBack = WindowRequest(results, holding: keep, window: 1);
                        giveBack.Returned.AddRange(queue.Select(t => t.Launch));
                        queue.Clear();
                        results = [];
                        inflight = ExchangeWindowAsync(exchange, giveBack, cancellationToken);
                        inflightHolding = keep;
                        askMore = false;
                    }
                    var (result, serviceGone, behindSent) = await invoke.ConfigureAwait(false);
                    running = null;
                    pace.Ran(Stopwatch.GetElapsedTime(started));
                    results.Add(new V1.CompletedTask { TaskId = taskId, Launch = next.Launch, TaskResult = result });
                    // Not sent, or sent on a stream that then ended in error: it never reached the service's turn.
                    aheadSent = behindSent && _shim!.TaskStreamOpen;
                    if (serviceGone)
                    {
                        // Report what ran, give back what never started (the service runs its tasks in order, so
                        // one sent ahead did not start either), and take no more.
                        if (inflight is not null)
                            Take(await inflight.ConfigureAwait(false));
                        inflight = null;
                        var last = WindowRequest(results, 0, pace.Window);
                        last.Leaving = true;
                        if (ahead is not null)
                            last.Returned.Add(ahead.Launch);
                        last.Returned.AddRange(queue.Select(t => t.Launch));
                        await ExchangeWindowAsync(exchange, last, cancellationToken).ConfigureAwait(false);
                        await exchange.CloseAsync(cancellationToken).ConfigureAwait(false);
                        return true;
                    }
                    if (inflight is { IsCompleted: true })
                    {
                        askMore = Take(await inflight.ConfigureAwait(false));
                        inflight = null;
                    }
                    continue;
                }
                if (inflight is null)
                    break; // nothing held, nothing to report, nothing asked: cannot happen, but never spin
                var answer = await inflight.ConfigureAwait(false);
                inflight = null;
                askMore = Take(answer);
                if (!askMore && inflightHolding == 0)
                    break; // held nothing and got nothing: no more work, unbind
            }
        }
        finally
        {
            // Left by an exception while an exchange was in flight: its outcome no longer matters.
            _ = inflight?.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            if (running is { IsCompleted: false })
            {
                // ...or while the service ran a task (an exchange failed meanwhile): the binding is abandoned, so
                // the service goes, and the invocation ends before anyone disposes what it uses.
                _shim?.Kill();
                await ((Task)running).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
        await exchange.CloseAsync(cancellationToken).ConfigureAwait(false);
        return false;

        int Held() => queue.Count + (ahead is null ? 0 : 1);

        bool Take(V1.TaskLaunch answer)
        {
            var count = 0;
            if (answer.Task is not null)
            {
                queue.Enqueue(answer);
                count++;
            }
            foreach (var more in answer.More)
            {
                if (more.Task is null)
                    continue;
                queue.Enqueue(more);
                count++;
            }
            return count > 0;
        }
    }

    /// <summary>
    /// The largest input sent to a service behind its running task. Such a write must complete without the service
    /// reading it (it reads the task only when it starts it), so it has to fit in the stream's HTTP/2 flow-control
    /// window (65,535 bytes unless the service raises it). A larger one would block the write, and with it the read
    /// of the running task's result: when that result is large too, the service blocks writing it and neither side
    /// moves until the timeout. Tasks with large inputs are not the tiny ones that pipelining is for anyway.
    /// </summary>
    internal const int MaxBehindInputBytes = 32 * 1024;

    private static bool FitsBehind(V1.Task task) => task.Spec is not { HasInput: true } spec || spec.Input.Length <= MaxBehindInputBytes;

    /// <summary>True if <paramref name="task"/> ends within <paramref name="limit"/> (its outcome is left in it).</summary>
    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan limit)
    {
        try
        {
            await task.WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch
        {
            // Its fault is the caller's to see when it awaits the task.
        }
        return true;
    }

    private V1.CompleteAndLaunchTaskRequest WindowRequest(List<V1.CompletedTask> results, int holding, int window)
    {
        var request = new V1.CompleteAndLaunchTaskRequest { ExecutorId = ExecutorId, Window = (uint)window, Holding = (uint)holding };
        request.MoreResults.AddRange(results);
        return request;
    }

    /// <summary>One exchange of the window loop, again after UNAVAILABLE (the gateway skips results it has recorded).</summary>
    private async Task<V1.TaskLaunch> ExchangeWindowAsync(
        ExchangeStream<V1.CompleteAndLaunchTaskRequest, V1.TaskLaunch> exchange, V1.CompleteAndLaunchTaskRequest request,
        CancellationToken cancellationToken)
    {
        var backoff = new Backoff(RetryInitial, RetryMax);
        while (true)
        {
            try
            {
                var answer = await exchange.ExchangeAsync(request, cancellationToken, cancellationToken).ConfigureAwait(false);
                foreach (var done in request.MoreResults)
                    LogTaskCompleted(ExecutorId, _sessionId, done.TaskId, done.TaskResult.ReturnCode);
                return answer;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                var delay = backoff.Next();
                LogGatewayUnavailable(ExecutorId, "CompleteAndLaunchTasks", delay.TotalMilliseconds, ex.Status.Detail);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Reports the result of the task just run (if any) and gets the next task: over the binding's stream, else with
    /// CompleteAndLaunchTask, else with the standard CompleteTask and LaunchTask, whichever the gateway serves. Only
    /// the stream numbers its launches (0 from the other paths).
    /// </summary>
    private async Task<V1.TaskLaunch> NextTaskAsync(
        ExchangeStream<V1.CompleteAndLaunchTaskRequest, V1.TaskLaunch> exchange, string? taskId, V1.TaskResult? result,
        ulong launch, CancellationToken cancellationToken)
    {
        var request = new V1.CompleteAndLaunchTaskRequest { ExecutorId = ExecutorId };
        if (result is not null)
        {
            // With the task's id and launch number: a retry after a lost answer can be taken neither for the next
            // task's result nor for the result of a later launch of the same task.
            request.TaskResult = result;
            request.TaskId = taskId;
            request.Launch = launch;
        }
        var backoff = new Backoff(RetryInitial, RetryMax);
        // The unary extension needs a result to report; without one, LaunchTask is the same call.
        while (_gateway.StreamsAvailable || (_gateway.ExtensionsAvailable && request.TaskResult is not null))
        {
            var streaming = _gateway.StreamsAvailable;
            try
            {
                var next = streaming
                    ? await exchange.ExchangeAsync(request, cancellationToken, cancellationToken).ConfigureAwait(false)
                    : Unnumbered(await _gateway.BackendExt.CompleteAndLaunchTaskAsync(request, new CallOptions(cancellationToken: cancellationToken))
                        .ResponseAsync.ConfigureAwait(false));
                if (request.TaskResult is not null)
                    LogTaskCompleted(ExecutorId, _sessionId, taskId!, result!.ReturnCode);
                return next;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
            {
                // Nothing was done: the next form down.
                if (streaming)
                    _gateway.StreamsAvailable = false;
                else
                    _gateway.ExtensionsAvailable = false;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && request.TaskResult is not null)
            {
                // A late completion (the task was cancelled, or given to another executor), or our first try got
                // through before its answer was lost: either way, ask for the next task.
                LogCompletionRefused(ExecutorId, _sessionId, taskId!, ex.Status.Detail);
                request.TaskResult = null;
                request.TaskId = "";
                request.Launch = 0;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                var delay = backoff.Next();
                LogGatewayUnavailable(ExecutorId, streaming ? "CompleteAndLaunchTasks" : "CompleteAndLaunchTask", delay.TotalMilliseconds, ex.Status.Detail);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
        // A gateway with the standard calls only (Flame's own).
        if (request.TaskResult is not null)
            await CompleteAsync(taskId!, result!, cancellationToken).ConfigureAwait(false);
        return Unnumbered(await LaunchAsync(cancellationToken).ConfigureAwait(false));
    }

    private static V1.TaskLaunch Unnumbered(V1.LaunchTaskResponse response) =>
        response.Task is { } task ? new V1.TaskLaunch { Task = task } : new V1.TaskLaunch();

    private Task<V1.LaunchTaskResponse> LaunchAsync(CancellationToken cancellationToken) =>
        CallAsync(static (b, r, o) => b.LaunchTaskAsync(r, o), _launchRequest, "LaunchTask", cancellationToken);

    private V1.TaskContext Context(V1.Task task)
    {
        var context = new V1.TaskContext { TaskId = task.Metadata?.Id ?? "", SessionId = _sessionId };
        if (task.Spec is { HasInput: true } taskSpec)
            context.Input = taskSpec.Input;
        return context;
    }

    /// <summary>
    /// Runs one task on the service and turns every way it can fail into a result. <paramref name="sent"/>: it is on
    /// the service's stream already (sent behind the one before), only its result is awaited. <paramref name="behind"/>:
    /// a task to put on the service's stream behind this one before its result is awaited (the service must serve the
    /// stream, <see cref="HostShim.CanPipeline"/>); <c>BehindSent</c> says whether it is. The task's timeout runs from
    /// here, when the service starts it.
    /// </summary>
    private async Task<(V1.TaskResult Result, bool ServiceGone, bool BehindSent)> InvokeAsync(
        V1.Task task, bool sent, V1.Task? behind, CancellationToken cancellationToken)
    {
        var shim = _shim!;
        var taskId = task.Metadata?.Id ?? "";
        var timeout = _options.TaskTimeout;
        DateTime? deadline = timeout > TimeSpan.Zero ? DateTime.UtcNow + timeout : null;
        LogTaskInvoking(ExecutorId, _sessionId, taskId);
        try
        {
            if (!sent && behind is null)
                return (FromService(await shim.InvokeAsync(Context(task), deadline, cancellationToken).ConfigureAwait(false)), false, false);
            var (result, behindSent) = await shim.InvokePipelinedAsync(
                sent ? null : Context(task), behind is null ? null : Context(behind), deadline, cancellationToken).ConfigureAwait(false);
            return (FromService(result), false, behindSent);
        }
        catch (Exception ex) when (deadline is not null && !cancellationToken.IsCancellationRequested
                                   && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.DeadlineExceeded })
        {
            // The channel throws OperationCanceledException for a passed deadline (ThrowOperationCanceledOnCancellation).
            shim.Kill();
            LogTaskTimedOut(ExecutorId, _sessionId, taskId, timeout.TotalSeconds);
            return (new V1.TaskResult
            {
                ReturnCode = -2,
                SystemFailure = true,
                Message = $"task {taskId} timed out after {timeout.TotalSeconds:0.###}s; the service was killed",
            }, true, false);
        }
        catch (RpcException ex)
        {
            if (await shim.WaitForExitAsync(ExitDetectionGrace).ConfigureAwait(false))
            {
                LogServiceDied(ExecutorId, _sessionId, taskId, shim.ExitCode);
                return (new V1.TaskResult
                {
                    ReturnCode = -1,
                    SystemFailure = true,
                    Message = $"service process exited with code {shim.ExitCode} while running task {taskId}",
                }, true, false);
            }
            if (ex.StatusCode == StatusCode.Unavailable)
            {
                // Alive but unreachable: a service that cannot be talked to is as good as dead.
                shim.Kill();
                LogServiceUnreachable(ExecutorId, _sessionId, taskId, ex.Status.Detail);
                return (new V1.TaskResult
                {
                    ReturnCode = -1,
                    SystemFailure = true,
                    Message = $"lost the connection to the service process while running task {taskId} ({ex.Status.Detail}); the service was killed",
                }, true, false);
            }
            // The service answered with a gRPC error instead of a TaskResult: the task failed, the service lives on.
            LogTaskRpcFailed(ExecutorId, _sessionId, taskId, ex.StatusCode, ex.Status.Detail);
            return (new V1.TaskResult
            {
                ReturnCode = -3,
                Message = $"the service answered task {taskId} with gRPC status {ex.StatusCode}: {ex.Status.Detail}",
            }, false, false);
        }
    }

    /// <summary>
    /// A result as the service returned it, without <c>system_failure</c>: only the executor manager says that a task
    /// failed through no fault of its own (and gets another attempt); a service that set it could retry its own errors.
    /// </summary>
    internal static V1.TaskResult FromService(V1.TaskResult result)
    {
        result.SystemFailure = false;
        return result;
    }

    private async Task CompleteAsync(string taskId, V1.TaskResult result, CancellationToken cancellationToken)
    {
        var request = new V1.CompleteTaskRequest { ExecutorId = ExecutorId, TaskResult = result };
        try
        {
            var answer = await CallAsync(static (b, r, o) => b.CompleteTaskAsync(r, o), request, "CompleteTask", cancellationToken)
                .ConfigureAwait(false);
            if (answer.ReturnCode != 0)
                LogCompletionRefused(ExecutorId, _sessionId, taskId, $"return code {answer.ReturnCode}: {answer.Message}");
            else
                LogTaskCompleted(ExecutorId, _sessionId, taskId, result.ReturnCode);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            // A late completion (the task was cancelled, or given to another executor): the gateway keeps what it has.
            LogCompletionRefused(ExecutorId, _sessionId, taskId, ex.Status.Detail);
        }
    }

    /// <summary>UnbindExecutor, OnSessionLeave (if the service lives), stop the service, UnbindExecutorCompleted.</summary>
    private async Task UnbindAsync(bool serviceGone, CancellationToken cancellationToken)
    {
        var unbind = new V1.UnbindExecutorRequest { ExecutorId = ExecutorId };
        await CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorAsync(r, o), unbind, "UnbindExecutor", cancellationToken)
            .ConfigureAwait(false);
        var keep = false;
        if (!serviceGone && _shim is { } shim)
        {
            var left = await shim.TryLeaveSessionAsync(_options.SessionLeaveTimeout, cancellationToken).ConfigureAwait(false);
            if (left is null)
                LogSessionLeaveFailed(ExecutorId, _sessionId);
            // Kept for the next session of its application only if the gateway allows it (by default a session gets a fresh
            // process, as in Flame), it left this one cleanly and nothing ends the executor.
            keep = _reuseService && left is { ReturnCode: 0 } && shim.IsAlive && !ReleaseRequested && !cancellationToken.IsCancellationRequested;
        }
        if (keep)
            LogServiceKeptWarm(ExecutorId, _sessionId, _shim!.ProcessId);
        else
            await StopServiceAsync().ConfigureAwait(false);
        var completed = new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId };
        await CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o), completed, "UnbindExecutorCompleted", cancellationToken)
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
            await StopServiceAsync().ConfigureAwait(false);
            return;
        }
        _shim?.Dispose();
        _shim = null;
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
                    var answer = await CallAsync(static (b, r, o) => b.BindExecutorCompletedAsync(r, o), failed, "BindExecutorCompleted", cancellationToken)
                        .ConfigureAwait(false);
                    ended = answer.ReturnCode == 0;
                }
                catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
                {
                    LogCallRefused(ExecutorId, "BindExecutorCompleted", $"{ex.StatusCode}: {ex.Status.Detail}");
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
            await CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorAsync(r, o), new V1.UnbindExecutorRequest { ExecutorId = ExecutorId },
                "UnbindExecutor", cancellationToken).ConfigureAwait(false);
        await CallExpectingResultAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o),
            new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId }, "UnbindExecutorCompleted", cancellationToken).ConfigureAwait(false);
    }

    private async Task StopServiceAsync()
    {
        if (_shim is not { } shim)
            return;
        _shim = null;
        try
        {
            if (!await shim.StopAsync(_options.ShutdownGrace).ConfigureAwait(false))
                LogServiceKilled(ExecutorId, _sessionId, shim.ProcessId, _options.ShutdownGrace.TotalSeconds);
        }
        finally
        {
            shim.Dispose();
        }
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
                    await CallOnceAsync(static (b, r, o) => b.UnregisterExecutorAsync(r, o), request, "UnregisterExecutor").ConfigureAwait(false);
                else
                    await CallExpectingResultAsync(static (b, r, o) => b.UnregisterExecutorAsync(r, o), request, "UnregisterExecutor", CancellationToken.None)
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
            _shim?.Dispose();
            _shim = null;
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
                await StopServiceAsync().ConfigureAwait(false);
                break;
            case ExecutorWorkerState.Binding:
                await StopServiceAsync().ConfigureAwait(false);
                _state.MoveTo(ExecutorWorkerState.Idle);
                break;
            case ExecutorWorkerState.Bound:
                _state.MoveTo(ExecutorWorkerState.Unbinding);
                await CallOnceAsync(static (b, r, o) => b.UnbindExecutorAsync(r, o), new V1.UnbindExecutorRequest { ExecutorId = ExecutorId }, "UnbindExecutor")
                    .ConfigureAwait(false);
                if (_shim is { } shim)
                {
                    var leave = _options.SessionLeaveTimeout < ShutdownCallTimeout ? _options.SessionLeaveTimeout : ShutdownCallTimeout;
                    await shim.TryLeaveSessionAsync(leave, CancellationToken.None).ConfigureAwait(false);
                }
                await StopServiceAsync().ConfigureAwait(false);
                await CallOnceAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o), new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId }, "UnbindExecutorCompleted")
                    .ConfigureAwait(false);
                _state.MoveTo(ExecutorWorkerState.Idle);
                break;
            case ExecutorWorkerState.Unbinding:
                // Shut down half-way through an unbind: finish the part that matters to the gateway.
                await StopServiceAsync().ConfigureAwait(false);
                await CallOnceAsync(static (b, r, o) => b.UnbindExecutorCompletedAsync(r, o), new V1.UnbindExecutorCompletedRequest { ExecutorId = ExecutorId }, "UnbindExecutorCompleted")
                    .ConfigureAwait(false);
                _state.MoveTo(ExecutorWorkerState.Idle);
                break;
        }
    }

    // ------------------------------------------------------------------ gateway calls

    /// <summary>A gateway call, retried with back-off while the gateway is UNAVAILABLE; other failures are thrown.</summary>
    private async Task<TResponse> CallAsync<TRequest, TResponse>(
        Func<BackendClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> call, TRequest request, string rpc,
        CancellationToken cancellationToken)
    {
        var backoff = new Backoff(RetryInitial, RetryMax);
        while (true)
        {
            try
            {
                return await call(_backend, request, new CallOptions(cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                var delay = backoff.Next();
                LogGatewayUnavailable(ExecutorId, rpc, delay.TotalMilliseconds, ex.Status.Detail);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A call answered by a Result: a refusal (non-zero code or an error status) is logged, not thrown.</summary>
    private async Task CallExpectingResultAsync<TRequest>(
        Func<BackendClient, TRequest, CallOptions, AsyncUnaryCall<V1.Result>> call, TRequest request, string rpc,
        CancellationToken cancellationToken)
    {
        try
        {
            var result = await CallAsync(call, request, rpc, cancellationToken).ConfigureAwait(false);
            if (result.ReturnCode != 0)
                LogCallRefused(ExecutorId, rpc, $"return code {result.ReturnCode}: {result.Message}");
        }
        catch (RpcException ex)
        {
            LogCallRefused(ExecutorId, rpc, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    /// <summary>One try with a short deadline, for shutdown: the gateway may be gone already.</summary>
    private async Task CallOnceAsync<TRequest>(
        Func<BackendClient, TRequest, CallOptions, AsyncUnaryCall<V1.Result>> call, TRequest request, string rpc)
    {
        try
        {
            var result = await call(_backend, request, new CallOptions(deadline: DateTime.UtcNow + ShutdownCallTimeout)).ResponseAsync
                .ConfigureAwait(false);
            if (result.ReturnCode != 0)
                LogCallRefused(ExecutorId, rpc, $"return code {result.ReturnCode}: {result.Message}");
        }
        catch (RpcException ex)
        {
            LogCallRefused(ExecutorId, rpc, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
        catch (OperationCanceledException)
        {
            LogCallRefused(ExecutorId, rpc, $"no answer within {ShutdownCallTimeout.TotalSeconds}s");
        }
    }

    /// <summary>Flame's bind return code for an application whose package could not be installed.</summary>
    internal const int InstallFailedCode = 10;

    private static V1.Result Failure(string message) => new() { ReturnCode = 1, Message = message };

    /// <summary>Flame's bind code 11: the working directory, the process or its socket could not be set up.</summary>
    private static V1.Result ShimFailure(string detail) => new() { ReturnCode = 11, Message = $"shim creation failed: {detail}" };

    /// <summary>Flame's bind code 12: OnSessionEnter returned non-zero or failed; the detail is the service's message.</summary>
    private static V1.Result EnterFailure(string detail) => new() { ReturnCode = 12, Message = $"on_session_enter failed: {detail}" };
}
