using Flame.V1;
using Grpc.Core;
using Task = System.Threading.Tasks.Task;

namespace Flame.SessionManager.Grpc;

/// <summary>Backend's standard per-task calls: thin adapters over the one task exchange (<see cref="TaskExchangeGateway"/>).</summary>
internal sealed partial class BackendService
{
    public override async Task<LaunchTaskResponse> LaunchTask(LaunchTaskRequest request, ServerCallContext context) =>
        TaskExchangeWire.ToResponse(await exchange.ExchangeAsync(request.ExecutorId, "LaunchTask", request, TaskExchangeWire.Next, context));

    public override async Task<Result> CompleteTask(CompleteTaskRequest request, ServerCallContext context)
    {
        await exchange.ExchangeAsync(request.ExecutorId, "CompleteTask", request, TaskExchangeWire.Complete, context);
        return Ok;
    }
}
