using Grpc.Core;

namespace Flame.ExecutorManager.Gateway;

/// <summary>The forms in which a gateway hands a bound executor its tasks, best first.</summary>
internal enum TaskChannelKind
{
    /// <summary>BackendExt.CompleteAndLaunchTasks: one stream per binding, with task windows if the gateway grants them.</summary>
    Stream,
    /// <summary>BackendExt.CompleteAndLaunchTask: a result and the next task in one call.</summary>
    Unary,
    /// <summary>flame.v1's LaunchTask and CompleteTask, as Flame's own gateway serves them.</summary>
    Standard,
}

/// <summary>
/// How one binding's tasks come from the gateway and their results go back. Chosen once, when the binding starts its
/// tasks (<see cref="TaskChannels.OpenAsync"/>), so the task loop never asks which form it speaks.
/// </summary>
internal interface IGatewayTaskChannel : IAsyncDisposable
{
    /// <summary>Which form this is.</summary>
    TaskChannelKind Kind { get; }

    /// <summary>
    /// Reports the result of the task just run (none before the first) and gets the next task: no task = no more work,
    /// unbind. A refused result (the task was cancelled or given to another executor) is logged and the next task
    /// asked for all the same. Only the stream numbers its launches (0 from the other forms).
    /// </summary>
    Task<V1.TaskLaunch> NextAsync(string? taskId, V1.TaskResult? result, ulong launch, CancellationToken cancellationToken);

    /// <summary>Ends the channel in order (the stream's end is read); nothing more is asked.</summary>
    Task CloseAsync(CancellationToken cancellationToken);
}

/// <summary>One exchange of a task window (<see cref="V1.CompleteAndLaunchTaskRequest.Window"/>): results, give-backs and new tasks.</summary>
internal interface IWindowExchange
{
    /// <summary>Sends <paramref name="request"/> and returns the gateway's answer, again after UNAVAILABLE.</summary>
    Task<V1.TaskLaunch> ExchangeAsync(V1.CompleteAndLaunchTaskRequest request, CancellationToken cancellationToken);
}

/// <summary>Chooses a binding's task channel, remembering per gateway connection the forms the gateway refused.</summary>
internal static class TaskChannels
{
    /// <summary>
    /// Opens the best task channel the gateway is not known to refuse and gets the binding's first task through it.
    /// A gateway that answers the stream UNIMPLEMENTED (a plain Flame server) is remembered as such, and the first
    /// task comes with LaunchTask (the same call for the two unary forms) instead: nothing was done on the gateway.
    /// </summary>
    public static async Task<(IGatewayTaskChannel Channel, V1.TaskLaunch First)> OpenAsync(
        GatewayConnection gateway, GatewayCalls calls, string sessionId, CancellationToken cancellationToken)
    {
        if (gateway.BestTaskChannel == TaskChannelKind.Stream)
        {
            var stream = new StreamTaskChannel(gateway.BackendExt, calls, sessionId);
            try
            {
                return (stream, await stream.NextAsync(null, null, 0, cancellationToken).ConfigureAwait(false));
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                gateway.Refused(TaskChannelKind.Stream);
            }
            catch
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        IGatewayTaskChannel channel = gateway.BestTaskChannel == TaskChannelKind.Unary
            ? new UnaryTaskChannel(gateway, calls, sessionId)
            : new StandardTaskChannel(calls, sessionId);
        return (channel, await channel.NextAsync(null, null, 0, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The launch answer of a unary form (not numbered).</summary>
    internal static V1.TaskLaunch Unnumbered(V1.LaunchTaskResponse response) =>
        response.Task is { } task ? new V1.TaskLaunch { Task = task } : new V1.TaskLaunch();
}

/// <summary>BackendExt.CompleteAndLaunchTasks: the binding's tasks over one stream, and its task windows.</summary>
internal sealed class StreamTaskChannel(V1.BackendExt.BackendExtClient backendExt, GatewayCalls calls, string sessionId)
    : IGatewayTaskChannel, IWindowExchange
{
    private const string Rpc = "CompleteAndLaunchTasks";

    private readonly ExchangeStream<V1.CompleteAndLaunchTaskRequest, V1.TaskLaunch> _exchange =
        new(token => backendExt.CompleteAndLaunchTasks(new CallOptions(cancellationToken: token)));

    public TaskChannelKind Kind => TaskChannelKind.Stream;

    public async Task<V1.TaskLaunch> NextAsync(string? taskId, V1.TaskResult? result, ulong launch, CancellationToken cancellationToken)
    {
        var request = new V1.CompleteAndLaunchTaskRequest { ExecutorId = calls.ExecutorId };
        if (result is not null)
        {
            // With the task's id and launch number: a retry after a lost answer can be taken neither for the next
            // task's result nor for the result of a later launch of the same task.
            request.TaskResult = result;
            request.TaskId = taskId;
            request.Launch = launch;
        }
        while (true)
        {
            try
            {
                var next = await Exchange(request, cancellationToken).ConfigureAwait(false);
                if (result is not null && request.TaskResult is not null)
                    calls.Completed(sessionId, taskId!, result.ReturnCode);
                return next;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && request.TaskResult is not null)
            {
                // A late completion (the task was cancelled, or given to another executor), or our first try got
                // through before its answer was lost: either way, ask for the next task.
                calls.CompletionRefused(sessionId, taskId!, ex.Status.Detail);
                request.TaskResult = null;
                request.TaskId = "";
                request.Launch = 0;
            }
        }
    }

    /// <summary>One exchange of the window loop, again after UNAVAILABLE (the gateway skips results it has recorded).</summary>
    public async Task<V1.TaskLaunch> ExchangeAsync(V1.CompleteAndLaunchTaskRequest request, CancellationToken cancellationToken)
    {
        var answer = await Exchange(request, cancellationToken).ConfigureAwait(false);
        foreach (var done in request.MoreResults)
            calls.Completed(sessionId, done.TaskId, done.TaskResult.ReturnCode);
        return answer;
    }

    private ValueTask<V1.TaskLaunch> Exchange(V1.CompleteAndLaunchTaskRequest request, CancellationToken cancellationToken) =>
        calls.RetryAsync(Rpc, (_exchange, request),
            static (s, token) => s._exchange.ExchangeAsync(s.request, token, token), cancellationToken);

    public Task CloseAsync(CancellationToken cancellationToken) => _exchange.CloseAsync(cancellationToken);

    public ValueTask DisposeAsync() => _exchange.DisposeAsync();
}

/// <summary>
/// BackendExt.CompleteAndLaunchTask: a result and the next task in one call (the first task with LaunchTask). If the
/// gateway answers it UNIMPLEMENTED after all, the binding goes on with the standard calls, and so do later ones.
/// </summary>
internal sealed class UnaryTaskChannel(GatewayConnection gateway, GatewayCalls calls, string sessionId) : IGatewayTaskChannel
{
    private readonly StandardTaskChannel _standard = new(calls, sessionId);
    private bool _refused;

    public TaskChannelKind Kind => _refused ? TaskChannelKind.Standard : TaskChannelKind.Unary;

    public async Task<V1.TaskLaunch> NextAsync(string? taskId, V1.TaskResult? result, ulong launch, CancellationToken cancellationToken)
    {
        // Without a result to report, LaunchTask is the same call.
        if (result is null || _refused)
            return await _standard.NextAsync(taskId, result, launch, cancellationToken).ConfigureAwait(false);
        var request = new V1.CompleteAndLaunchTaskRequest { ExecutorId = calls.ExecutorId, TaskResult = result, TaskId = taskId };
        try
        {
            var next = await calls.RetryAsync("CompleteAndLaunchTask", (gateway.BackendExt, request),
                static (s, token) => s.BackendExt.CompleteAndLaunchTaskAsync(s.request, new CallOptions(cancellationToken: token)).ResponseAsync,
                cancellationToken).ConfigureAwait(false);
            calls.Completed(sessionId, taskId!, result.ReturnCode);
            return TaskChannels.Unnumbered(next);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            // Nothing was done: the standard calls from now on.
            _refused = true;
            gateway.Refused(TaskChannelKind.Unary);
            return await _standard.NextAsync(taskId, result, launch, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            // A late completion, or our first try got through before its answer was lost: ask for the next task.
            calls.CompletionRefused(sessionId, taskId!, ex.Status.Detail);
            return await _standard.NextAsync(null, null, 0, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task CloseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>flame.v1's CompleteTask and LaunchTask (a gateway with the standard calls only, as Flame's own).</summary>
internal sealed class StandardTaskChannel(GatewayCalls calls, string sessionId) : IGatewayTaskChannel
{
    public TaskChannelKind Kind => TaskChannelKind.Standard;

    public async Task<V1.TaskLaunch> NextAsync(string? taskId, V1.TaskResult? result, ulong launch, CancellationToken cancellationToken)
    {
        if (result is not null)
            await calls.CompleteTaskAsync(sessionId, taskId!, result, cancellationToken).ConfigureAwait(false);
        return TaskChannels.Unnumbered(await calls.LaunchTaskAsync(cancellationToken).ConfigureAwait(false));
    }

    public Task CloseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
