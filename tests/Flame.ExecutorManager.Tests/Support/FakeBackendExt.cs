using Flame.V1;
using Grpc.Core;

namespace Flame.ExecutorManager.Tests.Support;

/// <summary>
/// The task stream of <c>flame.v1.BackendExt</c> over <see cref="FakeBackend"/>: each message is the CompleteTask
/// (if it carries a result) and LaunchTask it stands for, recorded under those names, so that a test's expected calls
/// hold with or without the stream. A refused completion ends the stream with its status, as the gateway's does.
/// Launches are numbered like the gateway's; <see cref="FakeBackend.CompletionLaunches"/> records what came back.
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
            if (request.TaskResult is not null)
                backend.CompletionLaunches.Enqueue(request.Launch);
            if (request.TaskResult is not null)
                await backend.CompleteTask(new CompleteTaskRequest { ExecutorId = request.ExecutorId, TaskResult = request.TaskResult }, context);
            var launch = await backend.LaunchTask(new LaunchTaskRequest { ExecutorId = request.ExecutorId }, context);
            await responseStream.WriteAsync(launch.Task is { } task ? new TaskLaunch { Task = task, Launch = backend.NextLaunch() } : new TaskLaunch(),
                context.CancellationToken);
        }
    }
}
