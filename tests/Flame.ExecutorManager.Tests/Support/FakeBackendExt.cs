using Flame.V1;
using Grpc.Core;

namespace Flame.ExecutorManager.Tests.Support;

/// <summary>
/// The task stream of <c>flame.v1.BackendExt</c> over <see cref="FakeBackend"/>: each message is the CompleteTask
/// (if it carries a result) and LaunchTask it stands for, recorded under those names, so that a test's expected calls
/// hold with or without the stream. A refused completion ends the stream with its status, as the gateway's does.
/// Launches are numbered like the gateway's; <see cref="FakeBackend.CompletionLaunches"/> records what came back.
/// With <see cref="FakeBackend.GrantsWindows"/> every answer grants a window, as the real gateway's does, and windowed
/// requests are served by <see cref="FakeBackend.ExchangeWindowAsync"/>: the executor manager's production path.
/// </summary>
public sealed class FakeBackendExt(FakeBackend backend) : BackendExt.BackendExtBase
{
    public override async Task CompleteAndLaunchTasks(
        IAsyncStreamReader<CompleteAndLaunchTaskRequest> requestStream, IServerStreamWriter<TaskLaunch> responseStream,
        ServerCallContext context)
    {
        backend.TaskStreamOpened();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = requestStream.Current;
            if (IsWindowed(request))
            {
                var answer = await backend.ExchangeWindowAsync(request, context);
                answer.Window = FakeBackend.MaxTaskWindow;
                await responseStream.WriteAsync(answer, context.CancellationToken);
                continue;
            }
            if (request.TaskResult is not null)
                backend.CompletionLaunches.Enqueue(request.Launch);
            if (request.TaskResult is not null)
                await backend.CompleteTask(new CompleteTaskRequest { ExecutorId = request.ExecutorId, TaskResult = request.TaskResult }, context);
            var launch = await backend.LaunchTask(new LaunchTaskRequest { ExecutorId = request.ExecutorId }, context);
            var response = launch.Task is { } task ? new TaskLaunch { Task = task, Launch = backend.NextLaunch() } : new TaskLaunch();
            if (backend.GrantsWindows)
                response.Window = FakeBackend.MaxTaskWindow;
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    /// <summary>The windowed form, as the gateway tells it apart (FrontendExtService.IsWindowed).</summary>
    private static bool IsWindowed(CompleteAndLaunchTaskRequest request) =>
        request.Window > 1 || request.Holding > 0 || request.MoreResults.Count > 0 || request.Returned.Count > 0 || request.Leaving;
}
