namespace Flame.Client;

/// <summary>RunTask for every transport: create, then watch until terminal.</summary>
internal static class TaskRunner
{
    public static async Task<TaskInfo> RunAsync(IFlameClient client, string sessionId, byte[]? input, CancellationToken cancellationToken)
    {
        var created = await client.CreateTaskAsync(sessionId, input, cancellationToken).ConfigureAwait(false);
        if (created.State.IsTerminal())
            return created;
        var last = created;
        await foreach (var task in client.WatchTaskAsync(sessionId, created.Id, cancellationToken).ConfigureAwait(false))
        {
            last = task;
            if (task.State.IsTerminal())
                return task;
        }
        throw new FlameException(FlameErrorKind.Unavailable,
            $"the watch of task {created.Id} of session '{sessionId}' ended while the task was {last.State}");
    }
}
