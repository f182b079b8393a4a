using Flame.ExecutorManager.Gateway;
using Flame.ExecutorManager.Hosting;

namespace Flame.ExecutorManager.Executors;

/// <summary>
/// The tasks of one binding: the task channel to the gateway is chosen once (<see cref="TaskChannels.OpenAsync"/>),
/// then the service runs the tasks one at a time, each result going with the request for the next, or a window of
/// them (<see cref="TaskWindowLoop"/>) where the gateway grants one and the node allows it
/// (<see cref="FlameExecutorManagerOptions.TaskWindow"/>).
/// </summary>
internal sealed class TaskLoop(GatewayConnection gateway, GatewayCalls calls, string sessionId, FlameExecutorManagerOptions options)
{
    /// <summary>Runs the binding's tasks on <paramref name="runner"/> until there are no more. True if the service is gone (it died or was killed).</summary>
    public async Task<bool> RunAsync(TaskRunner runner, CancellationToken cancellationToken)
    {
        var (channel, launch) = await TaskChannels.OpenAsync(gateway, calls, sessionId, cancellationToken).ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            bool serviceGone;
            // Asked for one task: the answer says whether the gateway grants a window.
            if (launch.Task is not null && launch.Window > 1 && options.TaskWindow > 1 && channel is IWindowExchange windows)
            {
                var loop = new TaskWindowLoop(windows, runner, calls.ExecutorId, (int)Math.Min(launch.Window, (uint)options.TaskWindow));
                serviceGone = await loop.RunAsync(launch, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                serviceGone = await RunOneByOneAsync(channel, runner, launch, cancellationToken).ConfigureAwait(false);
            }
            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
            return serviceGone;
        }
    }

    /// <summary>One task at a time: each result goes with the request for the next task. True if the service is gone.</summary>
    private async Task<bool> RunOneByOneAsync(IGatewayTaskChannel channel, TaskRunner runner, V1.TaskLaunch launch, CancellationToken cancellationToken)
    {
        while (launch.Task is { } task)
        {
            var outcome = await runner.InvokeAsync(task, sent: false, behind: null, cancellationToken).ConfigureAwait(false);
            var taskId = task.Metadata?.Id ?? "";
            if (outcome.ServiceGone)
            {
                // The result without asking for another task: this executor has no service to run it.
                await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
                await calls.CompleteTaskAsync(sessionId, taskId, outcome.Result, cancellationToken).ConfigureAwait(false);
                return true;
            }
            launch = await channel.NextAsync(taskId, outcome.Result, launch.Launch, cancellationToken).ConfigureAwait(false);
        }
        return false;
    }
}
