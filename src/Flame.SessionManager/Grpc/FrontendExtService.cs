using Flame.Wire;
using Flame.Client;
using Flame.SessionManager.Security;
using Flame.V1;
using Grpc.Core;
using Task = System.Threading.Tasks.Task;

namespace Flame.SessionManager.Grpc;

/// <summary>The batched and streaming client calls of <c>ext.proto</c>, over the in-process client like the Frontend.</summary>
internal sealed class FrontendExtService(OrleansFlameClient flame, Authorizer authorizer, SessionListing listing) : FrontendExt.FrontendExtBase
{
    /// <summary>One directory page per answer: a user who owns few of many sessions gets short pages, never a long wait.</summary>
    public override async Task<ListSessionsResponse> ListSessions(ListSessionsRequest request, ServerCallContext context)
    {
        var size = request.PageSize == 0 ? 1_000 : request.PageSize;
        if (size is < 1 or > Flame.Grains.Sessions.SessionDirectoryGrain.MaxPage)
            throw FlameException.InvalidArgument($"page_size {request.PageSize} is out of range: 1 to {Flame.Grains.Sessions.SessionDirectoryGrain.MaxPage}, or 0 for 1,000");
        bool? open = request.HasState ? request.State == V1.SessionState.Open : null;
        var (sessions, next) = await listing.FillAsync(Caller.Of(context), request.PageToken, size, 1, open,
            string.IsNullOrEmpty(request.Application) ? null : request.Application, context.CancellationToken);
        var response = new ListSessionsResponse { NextPageToken = next ?? "" };
        response.Sessions.AddRange(sessions);
        return response;
    }

    public override async Task<PruneSessionsResponse> PruneSessions(PruneSessionsRequest request, ServerCallContext context) =>
        new() { Deleted = await flame.PruneSessionsAsync(DateTimeOffset.FromUnixTimeMilliseconds(request.ClosedBefore), context.CancellationToken) };

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
