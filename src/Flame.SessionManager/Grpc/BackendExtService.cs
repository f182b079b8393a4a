using Flame.V1;
using Grpc.Core;
using Task = System.Threading.Tasks.Task;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// The executor side of <c>ext.proto</c>: a task's result and the next task in one round trip, or over one stream.
/// Thin adapters over the one task exchange (<see cref="TaskExchangeGateway"/>).
/// </summary>
internal sealed class BackendExtService(TaskExchangeGateway exchange) : BackendExt.BackendExtBase
{
    public override async Task<LaunchTaskResponse> CompleteAndLaunchTask(CompleteAndLaunchTaskRequest request, ServerCallContext context) =>
        TaskExchangeWire.ToResponse(await exchange.ExchangeAsync(
            request.ExecutorId, "CompleteAndLaunchTask", request, TaskExchangeWire.CompleteAndLaunch, context));

    public override async Task CompleteAndLaunchTasks(
        IAsyncStreamReader<CompleteAndLaunchTaskRequest> requestStream, IServerStreamWriter<TaskLaunch> responseStream,
        ServerCallContext context)
    {
        // One request at a time, answered in order: the executor sends its next request only after this answer.
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = requestStream.Current;
            var handout = TaskExchangeWire.IsWindowed(request)
                ? await exchange.ExchangeAsync(request.ExecutorId, "CompleteAndLaunchTasks", request, TaskExchangeWire.Windowed, context)
                : await exchange.ExchangeAsync(request.ExecutorId, "CompleteAndLaunchTask", request, TaskExchangeWire.StreamOne, context);
            await responseStream.WriteAsync(TaskExchangeWire.ToLaunch(handout), context.CancellationToken);
        }
    }
}
