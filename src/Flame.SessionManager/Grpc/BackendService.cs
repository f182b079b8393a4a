using System.Collections.Concurrent;
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
/// their grains; the per-task calls (LaunchTask, CompleteTask) go straight to the session grain the
/// executor is bound to, so a task costs one grain call each way.
/// </summary>
/// <remarks>
/// A node token may act only for its own node and the executors on it (<see cref="Authorizer"/>): a fake executor
/// manager cannot register as another node, nor bind, launch or complete for another node's executor (and so never
/// receives another session's data). Admins, and the anonymous admin of the embedded default, act for any node.
/// </remarks>
internal sealed partial class BackendService(
    IGrainFactory grains,
    ExecutorSessions sessions,
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

    public override async Task<LaunchTaskResponse> LaunchTask(LaunchTaskRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "LaunchTask");
        var session = await SessionOfAsync(id);
        return ToResponse(await LaunchAsync(session, id, first: null, context));
    }

    /// <summary>BackendExt.CompleteAndLaunchTask: CompleteTask, then LaunchTask's answer, in one grain call and one round trip.</summary>
    public async Task<LaunchTaskResponse> CompleteAndLaunchTaskAsync(CompleteAndLaunchTaskRequest request, ServerCallContext context) =>
        ToResponse(await CompleteAndLaunchAsync(request, context));

    /// <summary>
    /// CompleteAndLaunchTask; with <paramref name="resultOptional"/> (the stream) a request without a result is a
    /// LaunchTask. The task (null: no more work) comes with its launch number.
    /// </summary>
    public async Task<TaskInfo?> CompleteAndLaunchAsync(CompleteAndLaunchTaskRequest request, ServerCallContext context, bool resultOptional = false)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "CompleteAndLaunchTask");
        var session = await SessionOfAsync(id);
        if (request.TaskResult is null && resultOptional)
            return await LaunchAsync(session, id, first: null, context);
        var result = ToResult(Required(request.TaskResult, "task_result")) with { Launch = (long)request.Launch };
        if (request.TaskId.Length > 0)
            result = result with { TaskId = FlameIds.ParseTaskId(request.TaskId) };
        return await LaunchAsync(session, id, () => session.CompleteAndLaunchTaskAsync(id, result), context);
    }

    /// <summary>The largest task window a gateway grants an executor (CompleteAndLaunchTaskRequest.window).</summary>
    public const int MaxTaskWindow = 64;

    /// <summary>
    /// CompleteAndLaunchTasks in the windowed form (<paramref name="window"/> tasks at most, 0 = leaving): the request's results and returned
    /// launches, then the tasks for the executor's window. Empty: nothing to give now (it holds tasks); null: no more
    /// work (it holds none): unbind.
    /// </summary>
    public async Task<TaskInfo[]?> ExchangeAsync(CompleteAndLaunchTaskRequest request, int window, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "CompleteAndLaunchTasks");
        var session = await SessionOfAsync(id);
        var results = new List<TaskResultInfo>(1 + request.MoreResults.Count);
        if (request.TaskResult is { } first)
            results.Add(Windowed(first, request.TaskId, request.Launch, "launch"));
        for (var i = 0; i < request.MoreResults.Count; i++)
        {
            var more = request.MoreResults[i];
            results.Add(Windowed(Required(more.TaskResult, $"more_results[{i}].task_result"), more.TaskId, more.Launch, $"more_results[{i}].launch"));
        }
        IReadOnlyList<long> returned = request.Returned.Select(launch => (long)launch).ToArray();
        while (true)
        {
            PollResult<TaskInfo[]> poll;
            try
            {
                poll = await session.ExchangeTasksAsync(id, results, returned, (int)request.Holding, window);
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
            {
                sessions.Forget(id);
                return request.Holding > 0 ? [] : null; // the session is gone: nothing more to do
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.FailedPrecondition)
            {
                sessions.Forget(id);
                throw;
            }
            // Recorded: asking again (a long wait is several polls) only waits.
            results = [];
            returned = [];
            if (poll.Item is { } tasks)
            {
                if (tasks.Length > 0 && context.CancellationToken.IsCancellationRequested)
                {
                    // The executor manager hung up while we waited: don't strand the tasks on it.
                    foreach (var task in tasks)
                        await session.ReturnTaskAsync(id, task.Id);
                    context.CancellationToken.ThrowIfCancellationRequested();
                }
                return tasks;
            }
            if (!poll.KeepWaiting || context.CancellationToken.IsCancellationRequested)
                return null;
        }
    }

    /// <summary>A result sent with a window: it must name its launch (the task id is checked when given).</summary>
    private static TaskResultInfo Windowed(TaskResult result, string taskId, ulong launch, string field)
    {
        if (launch == 0)
            throw FlameException.InvalidArgument($"{field} is 0: with a window every result names the launch it is for");
        var info = ToResult(result) with { Launch = (long)launch };
        return taskId.Length > 0 ? info with { TaskId = FlameIds.ParseTaskId(taskId) } : info;
    }

    private static LaunchTaskResponse ToResponse(TaskInfo? task) => task is null ? new LaunchTaskResponse() : new LaunchTaskResponse { Task = task.ToWire() };

    private async Task<TaskInfo?> LaunchAsync(
        ISessionGrain session, string id, Func<Task<PollResult<TaskInfo>>>? first, ServerCallContext context)
    {
        while (true)
        {
            PollResult<TaskInfo> poll;
            try
            {
                poll = first is not null ? await first() : await session.LaunchTaskAsync(id);
                first = null;
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
            {
                sessions.Forget(id);
                return null; // the session is gone: no more work, unbind
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.FailedPrecondition)
            {
                sessions.Forget(id); // the executor is no longer attached: the cached session is stale
                throw;
            }
            if (poll.Item is { } task)
            {
                if (context.CancellationToken.IsCancellationRequested)
                {
                    // The executor manager hung up while we waited: don't strand the task on it.
                    await session.ReturnTaskAsync(id, task.Id);
                    context.CancellationToken.ThrowIfCancellationRequested();
                }
                return task;
            }
            if (!poll.KeepWaiting || context.CancellationToken.IsCancellationRequested)
                return null;
        }
    }

    public override async Task<Result> CompleteTask(CompleteTaskRequest request, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(request.ExecutorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, "CompleteTask");
        var result = ToResult(Required(request.TaskResult, "task_result"));
        await (await SessionOfAsync(id)).CompleteTaskAsync(id, result);
        return Ok;
    }

    private static TaskResultInfo ToResult(TaskResult result) => new()
    {
        ReturnCode = result.ReturnCode,
        Output = result.GetOutputOrNull(),
        Message = result.HasMessage ? result.Message : null,
        SystemFailure = result.SystemFailure,
    };

    /// <summary>The session grain the executor is bound to; cached, since resolving a grain reference costs microseconds per task.</summary>
    private async ValueTask<ISessionGrain> SessionOfAsync(string executorId)
    {
        if (sessions.TryGet(executorId, out var cached))
            return cached;
        var executor = await grains.GetGrain<IExecutorGrain>(executorId).GetAsync();
        if (executor.State != ExecutorState.Bound || executor.SessionId is null)
            throw FlameException.FailedPrecondition($"executor '{executorId}' is {executor.State}, not Bound to a session");
        var session = grains.GetGrain<ISessionGrain>(executor.SessionId);
        sessions.Remember(executorId, session);
        return session;
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

/// <summary>
/// Which session each executor is bound to, as this gateway last learnt it, so that the per-task
/// calls need not ask the executor grain. A stale entry is harmless: the session grain refuses an
/// executor that is not attached to it, and the entry is dropped on unbind.
/// </summary>
internal sealed class ExecutorSessions
{
    private readonly ConcurrentDictionary<string, ISessionGrain> _sessions = new(StringComparer.Ordinal);

    public bool TryGet(string executorId, out ISessionGrain session) => _sessions.TryGetValue(executorId, out session!);

    public void Remember(string executorId, ISessionGrain session) => _sessions[executorId] = session;

    public void Forget(string executorId) => _sessions.TryRemove(executorId, out _);
}
