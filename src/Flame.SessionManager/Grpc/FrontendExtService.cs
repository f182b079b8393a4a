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

/// <summary>The executor side of <c>ext.proto</c>: a task's result and the next task in one round trip, or over one stream.</summary>
internal sealed class BackendExtService(BackendService backend) : BackendExt.BackendExtBase
{
    public override Task<LaunchTaskResponse> CompleteAndLaunchTask(CompleteAndLaunchTaskRequest request, ServerCallContext context) =>
        backend.CompleteAndLaunchTaskAsync(request, context);

    public override async Task CompleteAndLaunchTasks(
        IAsyncStreamReader<CompleteAndLaunchTaskRequest> requestStream, IServerStreamWriter<TaskLaunch> responseStream,
        ServerCallContext context)
    {
        // One request at a time, answered in order: the executor sends its next request only after this answer.
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = requestStream.Current;
            var window = (int)Math.Min(request.Window, BackendService.MaxTaskWindow);
            TaskLaunch response;
            if (IsWindowed(request))
                response = Launches(await backend.ExchangeAsync(request, request.Leaving ? 0 : Math.Max(1, window), context));
            else
            {
                var task = await backend.CompleteAndLaunchAsync(request, context, resultOptional: true);
                response = task is null ? new TaskLaunch() : Launch(task);
            }
            // Every answer says how large a window this gateway grants: an executor manager that asked with one
            // task learns it may ask for more.
            response.Window = BackendService.MaxTaskWindow;
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    /// <summary>The windowed form (ext.proto, CompleteAndLaunchTaskRequest.window); otherwise the one-task form.</summary>
    private static bool IsWindowed(CompleteAndLaunchTaskRequest request) =>
        request.Window > 1 || request.Holding > 0 || request.MoreResults.Count > 0 || request.Returned.Count > 0 || request.Leaving;

    private static TaskLaunch Launch(TaskInfo task) => new() { Task = task.ToWire(), Launch = (ulong)task.Launch };

    private static TaskLaunch Launches(TaskInfo[]? tasks)
    {
        if (tasks is not { Length: > 0 })
            return new TaskLaunch();
        var response = Launch(tasks[0]);
        for (var i = 1; i < tasks.Length; i++)
            response.More.Add(Launch(tasks[i]));
        return response;
    }
}
