using Flame.Wire;
using Flame.Client;
using Flame.SessionManager.Security;
using Flame.V1;
using Grpc.Core;
using Task = System.Threading.Tasks.Task;

namespace Flame.SessionManager.Grpc;

/// <summary>The batched and streaming client calls of <c>ext.proto</c>, over the in-process client like the Frontend.</summary>
internal sealed class FrontendExtService(OrleansFlameClient flame, Authorizer authorizer) : FrontendExt.FrontendExtBase
{
    public override async Task<CreateTasksResponse> CreateTasks(CreateTasksRequest request, ServerCallContext context)
    {
        await authorizer.CheckSessionAsync(Caller.Of(context), request.SessionId, "CreateTasks");
        var inputs = new byte[]?[request.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
            inputs[i] = request.Inputs[i].IsEmpty ? null : request.Inputs[i].ToByteArray();
        var first = await flame.CreateTasksAsync(request.SessionId, inputs, context.CancellationToken);
        return new CreateTasksResponse { FirstTaskId = first, Count = inputs.Length };
    }

    public override async Task WatchSession(WatchSessionRequest request, IServerStreamWriter<TaskBatch> responseStream, ServerCallContext context)
    {
        await authorizer.CheckSessionAsync(Caller.Of(context), request.SessionId, "WatchSession");
        await foreach (var tasks in flame.WatchSessionAsync(request.SessionId, context.CancellationToken))
        {
            var batch = new TaskBatch();
            foreach (var task in tasks)
                batch.Tasks.Add(task.ToWire());
            await responseStream.WriteAsync(batch, context.CancellationToken);
        }
    }
}
