using System.Threading.Channels;
using Flame.Wire;
using Flame.Grains;
using Flame.SessionManager.Security;
using Flame.V1;
using Grpc.Core;
using Task = System.Threading.Tasks.Task;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// The executor-manager-facing flame.v1 Backend service. Node and executor lifecycle calls go to
/// their grains; the per-task calls (LaunchTask, CompleteTask: <c>BackendService.Tasks.cs</c>) go through the one task
/// exchange (<see cref="TaskExchangeGateway"/>) straight to the session grain the executor is bound to, so a task
/// costs one grain call each way.
/// </summary>
/// <remarks>
/// A node token may act only for its own node and the executors on it (<see cref="Authorizer"/>): a fake executor
/// manager cannot register as another node, nor bind, launch or complete for another node's executor (and so never
/// receives another session's data). Admins, and the anonymous admin of the embedded default, act for any node.
/// </remarks>
internal sealed partial class BackendService(
    IGrainFactory grains,
    ExecutorSessions sessions,
    TaskExchangeGateway exchange,
    Authorizer authorizer,
    TimeProvider clock,
    ILogger<BackendService> logger) : Backend.BackendBase
{
    private static readonly Result Ok = new() { ReturnCode = 0 };

    public override async Task<Result> RegisterNode(RegisterNodeRequest request, ServerCallContext context)
    {
        var node = Required(request.Node, "node").ToDomain();
        var name = FlameIds.ValidateNodeName(node.Name);
        Authorizer.CheckNode(Caller.Of(context), name, "RegisterNode");
        var live = request.Executors.Where(e => !string.IsNullOrEmpty(e.Metadata?.Id)).Select(e => new ExecutorInfo
        {
            Id = FlameIds.ValidateExecutorId(e.Metadata.Id),
            Node = name,
            ResReq = e.Spec?.Resreq?.ToDomain() ?? new ResourceRequirement(),
        }).ToList();
        await grains.GetGrain<INodeGrain>(name).RegisterAsync(node, live);
        return Ok;
    }

    public override async Task<SyncNodeResponse> SyncNode(SyncNodeRequest request, ServerCallContext context)
    {
        var name = FlameIds.ValidateNodeName(Required(request.Node, "node").Metadata?.Name);
        Authorizer.CheckNode(Caller.Of(context), name, "SyncNode");
        var node = grains.GetGrain<INodeGrain>(name);
        var response = new SyncNodeResponse { Node = (await node.GetAsync()).ToWire() };
        response.Executors.AddRange((await node.ListExecutorsAsync()).Select(e => e.ToWire()));
        return response;
    }

    public override async Task<Result> ReleaseNode(ReleaseNodeRequest request, ServerCallContext context)
    {
        var name = FlameIds.ValidateNodeName(request.NodeName);
        Authorizer.CheckNode(Caller.Of(context), name, "ReleaseNode");
        await grains.GetGrain<INodeGrain>(name).ReleaseAsync();
        return Ok;
    }

    public override async Task WatchNode(
        IAsyncStreamReader<WatchNodeRequest> requestStream, IServerStreamWriter<WatchNodeResponse> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct))
            return;
        var name = FlameIds.ValidateNodeName(Required(requestStream.Current.Heartbeat, "heartbeat").NodeName);
        Authorizer.CheckNode(Caller.Of(context), name, "WatchNode");
        var node = grains.GetGrain<INodeGrain>(name);
        // One writer: heartbeat acks and executor orders share the response stream.
        var outbox = Channel.CreateUnbounded<WatchNodeResponse>(new UnboundedChannelOptions { SingleReader = true });
        var watcher = new NodeWatcher(outbox.Writer);
        var reference = grains.CreateObjectReference<INodeWatcher>(watcher);
        try
        {
            await HeartbeatAsync(node, name, requestStream.Current.Heartbeat, outbox.Writer);
            await node.WatchAsync(reference);
            LogWatching(name);
            var writer = Task.Run(async () =>
            {
                await foreach (var message in outbox.Reader.ReadAllAsync(ct))
                    await responseStream.WriteAsync(message, ct);
            }, ct);
            while (await requestStream.MoveNext(ct))
                await HeartbeatAsync(node, name, requestStream.Current.Heartbeat, outbox.Writer);
            outbox.Writer.TryComplete();
            await writer;
        }
        finally
        {
            outbox.Writer.TryComplete();
            try
            {
                await node.UnwatchAsync(reference);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogUnwatchFailed(name, ex);
            }
            grains.DeleteObjectReference<INodeWatcher>(reference);
            GC.KeepAlive(watcher);
        }
    }

    public override async Task<Result> RegisterExecutor(RegisterExecutorRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        var spec = Required(request.ExecutorSpec, "executor_spec");
        Authorizer.CheckNode(Caller.Of(context), spec.Node, "RegisterExecutor");
        await grains.GetGrain<IExecutorGrain>(id).RegisterAsync(new ExecutorInfo
        {
            Id = id,
            Node = spec.Node,
            ResReq = spec.Resreq?.ToDomain() ?? new ResourceRequirement(),
            Shim = (Shim)(int)spec.Shim,
            State = ExecutorState.Idle,
        });
        return Ok;
    }

    public override async Task<Result> UnregisterExecutor(UnregisterExecutorRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "UnregisterExecutor");
        sessions.Forget(id);
        await grains.GetGrain<IExecutorGrain>(id).UnregisterAsync();
        authorizer.Forget(id);
        return Ok;
    }

    public override async Task<BindExecutorResponse> BindExecutor(BindExecutorRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "BindExecutor");
        var executor = grains.GetGrain<IExecutorGrain>(id);
        while (true)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var poll = await executor.BindAsync();
            if (poll.Item is { } binding)
            {
                sessions.Remember(id, grains.GetGrain<ISessionGrain>(binding.Session.Id));
                return new BindExecutorResponse
                {
                    Application = binding.Application.ToWire(),
                    Session = binding.Session.ToWire(),
                    ReuseService = binding.ReuseService,
                };
            }
            if (!poll.KeepWaiting)
                return new BindExecutorResponse();
        }
    }

    public override async Task<Result> BindExecutorCompleted(BindExecutorCompletedRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "BindExecutorCompleted");
        var result = request.Result;
        // An omitted result is a success, as in Flame.
        await grains.GetGrain<IExecutorGrain>(id).BindCompletedAsync(result?.ReturnCode ?? 0, result?.HasMessage == true ? result.Message : null);
        return Ok;
    }

    public override async Task<Result> UnbindExecutor(UnbindExecutorRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "UnbindExecutor");
        sessions.Forget(id);
        await grains.GetGrain<IExecutorGrain>(id).UnbindAsync();
        return Ok;
    }

    public override async Task<Result> UnbindExecutorCompleted(UnbindExecutorCompletedRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "UnbindExecutorCompleted");
        await grains.GetGrain<IExecutorGrain>(id).UnbindCompletedAsync();
        return Ok;
    }

    private async Task HeartbeatAsync(INodeGrain node, string name, NodeHeartbeat heartbeat, ChannelWriter<WatchNodeResponse> outbox)
    {
        if (heartbeat.NodeName != name)
            throw FlameException.InvalidArgument($"heartbeat for node '{heartbeat.NodeName}' on the stream of node '{name}'");
        await node.HeartbeatAsync((heartbeat.Status ?? new NodeStatus()).ToDomain(name, name));
        outbox.TryWrite(new WatchNodeResponse { Ack = new Acknowledgement { Timestamp = clock.GetUtcNow().ToUnixTimeMilliseconds() } });
    }

    private static T Required<T>(T? value, string what) where T : class =>
        value ?? throw FlameException.InvalidArgument($"the request has no {what}");

    /// <summary>The grain observer behind one WatchNode stream.</summary>
    private sealed class NodeWatcher(ChannelWriter<WatchNodeResponse> outbox) : INodeWatcher
    {
        public Task OnExecutorAsync(ExecutorInfo executor)
        {
            outbox.TryWrite(new WatchNodeResponse { Executor = executor.ToWire() });
            return Task.CompletedTask;
        }
    }
}
