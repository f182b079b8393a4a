using System.Diagnostics;
using Flame.ExecutorManager.Gateway;
using Flame.ExecutorManager.Executors;
using Flame.ExecutorManager.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Nodes;

/// <summary>
/// The node's side of the conversation with the gateway: RegisterNode, then the WatchNode stream that carries
/// heartbeats out and executor requests in. Reconnects with back-off whenever the gateway goes away; the
/// executors keep running meanwhile. On shutdown: the executors stop, then ReleaseNode.
/// </summary>
/// <remarks>
/// The shutdown runs in <see cref="StoppingAsync"/>, before any hosted service is stopped: in a session manager
/// that embeds the executor manager, the gateway it talks to (Kestrel, which a WebApplication stops first) and the
/// silo behind it must still serve the executors' last results and ReleaseNode.
/// </remarks>
internal sealed partial class NodeAgent : BackgroundService, IHostedLifecycleService
{
    private static readonly TimeSpan ReconnectInitial = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ReconnectMax = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RefuseTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReleaseNodeTimeout = TimeSpan.FromSeconds(5);

    private readonly FlameExecutorManagerOptions _options;
    private readonly NodeDescription _node;
    private readonly V1.Backend.BackendClient _backend;
    private readonly ExecutorRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger<NodeAgent> _logger;
    private volatile bool _registered;
    private int _stopped;

    public NodeAgent(
        FlameExecutorManagerOptions options, NodeDescription node, GatewayConnection gateway, ExecutorRegistry registry,
        TimeProvider time, ILogger<NodeAgent> logger)
    {
        _options = options;
        _node = node;
        _backend = gateway.Backend;
        _registry = registry;
        _time = time;
        _logger = logger;
        Endpoint = gateway.Endpoint;
    }

    private string Endpoint { get; }

    /// <summary>
    /// The longest silence on the watch stream (the gateway acknowledges every heartbeat) before the node
    /// takes the stream for dead and reconnects: five heartbeats, and at least 10 s.
    /// </summary>
    internal TimeSpan SilenceLimit => TimeSpan.FromTicks(Math.Max(_options.HeartbeatInterval.Ticks * 5, TimeSpan.FromSeconds(10).Ticks));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        LogStarting(_node.Name, Endpoint, _node.Slots);
        if (_registry.Guard.AllowedCommands.Count == 0)
            LogNothingAllowed(_node.Name, AllowedCommandsKey);
        else
            LogAllowedCommands(_node.Name, string.Join(", ", _registry.Guard.AllowedCommands), AllowedCommandsKey);
        _registry.PruneDirectories(); // what earlier runs of this node left beyond the number kept
        var backoff = new Backoff(ReconnectInitial, ReconnectMax);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RegisterAsync(stoppingToken).ConfigureAwait(false);
                await WatchAsync(() => backoff.Reset(), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex)
            {
                LogGatewayUnreachable(_node.Name, Endpoint, ex.StatusCode, ex.Status.Detail);
            }
            catch (Exception ex)
            {
                LogNodeFault(ex, _node.Name);
            }
            try
            {
                await Task.Delay(backoff.Next(), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => StopAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // First the stream, so that no new executor starts; then the executors; then the node.
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        await _registry.StopAllAsync(cancellationToken).ConfigureAwait(false);
        if (!_registered)
            return;
        try
        {
            var result = await _backend.ReleaseNodeAsync(
                new V1.ReleaseNodeRequest { NodeName = _node.Name },
                deadline: DateTime.UtcNow + ReleaseNodeTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (result.ReturnCode != 0)
                LogReleaseRefused(_node.Name, $"return code {result.ReturnCode}: {result.Message}");
            else
                LogNodeReleased(_node.Name);
        }
        catch (RpcException ex)
        {
            LogReleaseRefused(_node.Name, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
        catch (OperationCanceledException)
        {
            LogReleaseRefused(_node.Name, "the host's shutdown timeout passed");
        }
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var request = new V1.RegisterNodeRequest { Node = _node.CreateNode(_time.GetUtcNow().ToUnixTimeMilliseconds()) };
        // The executors that run on: the gateway counts them against the node (it may have forgotten them with a silo)
        // and ends those it holds that are not among them (this node restarted).
        request.Executors.AddRange(_registry.Executors.Select(e => new V1.Executor
        {
            Metadata = new V1.Metadata { Id = e.Id, Name = e.Id },
            // What each was ordered with, as RegisterExecutor says: a gateway that lost the executor with a silo
            // learns it again from this, and one that learnt 1 core and no memory would never place its session's work.
            Spec = new V1.ExecutorSpec { Node = _node.Name, Resreq = e.Resreq.Clone() },
        }));
        var result = await _backend.RegisterNodeAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ReturnCode != 0)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"RegisterNode returned {result.ReturnCode}: {result.Message}"));
        _registered = true;
        LogRegistered(_node.Name, Endpoint, _registry.Count);
    }

    /// <summary>Holds the WatchNode stream until it ends or breaks; <paramref name="connected"/> runs at the first answer.</summary>
    private async Task WatchAsync(Action connected, CancellationToken stoppingToken)
    {
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var call = _backend.WatchNode(cancellationToken: watch.Token);
        var lastAnswer = Stopwatch.GetTimestamp();
        var silent = false;
        var heartbeats = SendHeartbeatsAsync(call.RequestStream, () => Volatile.Read(ref lastAnswer), () =>
        {
            silent = true;
            watch.Cancel();
        }, watch.Token);
        var answered = false;
        try
        {
            while (await call.ResponseStream.MoveNext(watch.Token).ConfigureAwait(false))
            {
                Volatile.Write(ref lastAnswer, Stopwatch.GetTimestamp());
                if (!answered)
                {
                    answered = true;
                    connected();
                }
                var response = call.ResponseStream.Current;
                switch (response.ResponseCase)
                {
                    case V1.WatchNodeResponse.ResponseOneofCase.Ack:
                        LogAck(_node.Name, response.Ack.Timestamp);
                        break;
                    case V1.WatchNodeResponse.ResponseOneofCase.Executor:
                        OnExecutor(response.Executor);
                        break;
                }
            }
            LogWatchEnded(_node.Name);
        }
        catch (OperationCanceledException) when (silent && !stoppingToken.IsCancellationRequested)
        {
            LogWatchSilent(_node.Name, SilenceLimit.TotalSeconds);
        }
        finally
        {
            await watch.CancelAsync().ConfigureAwait(false);
            try
            {
                await heartbeats.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException or InvalidOperationException or IOException)
            {
                // The stream is gone; the reading side has said why.
            }
        }
    }

    private async Task SendHeartbeatsAsync(
        IClientStreamWriter<V1.WatchNodeRequest> stream, Func<long> lastAnswer, Action silent, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        do
        {
            if (Stopwatch.GetElapsedTime(lastAnswer()) > SilenceLimit)
            {
                silent();
                return;
            }
            var heartbeat = new V1.WatchNodeRequest
            {
                Heartbeat = new V1.NodeHeartbeat
                {
                    NodeName = _node.Name,
                    Status = _node.CreateStatus(_time.GetUtcNow().ToUnixTimeMilliseconds()),
                },
            };
            await stream.WriteAsync(heartbeat, cancellationToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>An executor update from the gateway: create (Void) or release (Releasing).</summary>
    internal void OnExecutor(V1.Executor executor)
    {
        var id = executor.Metadata?.Id;
        var state = executor.Status?.State ?? V1.ExecutorState.ExecutorUnknown;
        var sessionId = executor.Status is { HasSessionId: true } status ? status.SessionId : "";
        if (string.IsNullOrEmpty(id))
        {
            LogExecutorWithoutId(_node.Name, state);
            return;
        }
        switch (state)
        {
            case V1.ExecutorState.ExecutorVoid:
                switch (_registry.TryStart(id, executor.Spec?.Resreq))
                {
                    case ExecutorStartOutcome.Started:
                        LogExecutorCreated(id, sessionId, _registry.Count, _registry.Slots);
                        break;
                    case ExecutorStartOutcome.AlreadyRunning:
                        LogExecutorDuplicate(id);
                        break;
                    case ExecutorStartOutcome.Full:
                        LogExecutorRefused(id, sessionId, _registry.Slots);
                        _ = UnregisterAsync(id);
                        break;
                    case ExecutorStartOutcome.ShuttingDown:
                        LogExecutorRefusedShuttingDown(id, sessionId);
                        _ = UnregisterAsync(id);
                        break;
                }
                break;
            case V1.ExecutorState.ExecutorReleasing:
                if (_registry.Release(id))
                {
                    LogExecutorReleasing(id);
                }
                else
                {
                    // Not ours (any more): say so once more, so that the gateway can forget it.
                    LogExecutorReleaseUnknown(id);
                    _ = UnregisterAsync(id);
                }
                break;
            default:
                LogExecutorUpdateIgnored(id, state);
                break;
        }
    }

    /// <summary>UnregisterExecutor for an executor this node does not run, off the stream's reading loop.</summary>
    private async Task UnregisterAsync(string executorId)
    {
        try
        {
            var result = await _backend.UnregisterExecutorAsync(
                new V1.UnregisterExecutorRequest { ExecutorId = executorId }, deadline: DateTime.UtcNow + RefuseTimeout).ConfigureAwait(false);
            if (result.ReturnCode != 0)
                LogUnregisterRefused(executorId, $"return code {result.ReturnCode}: {result.Message}");
        }
        catch (RpcException ex)
        {
            LogUnregisterRefused(executorId, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
        catch (OperationCanceledException)
        {
            LogUnregisterRefused(executorId, $"no answer within {RefuseTimeout.TotalSeconds}s");
        }
    }
}
