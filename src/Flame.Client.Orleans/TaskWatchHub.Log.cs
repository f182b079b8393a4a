using Microsoft.Extensions.Logging;

namespace Flame.Client;

public sealed partial class TaskWatchHub
{
    [LoggerMessage(5010, LogLevel.Warning,
        "A refresh of task {TaskId} of session {SessionId} found state {State}, of which no notification had arrived")]
    private partial void LogRefreshFoundChange(string sessionId, long taskId, TaskState state);

    [LoggerMessage(5011, LogLevel.Warning,
        "Refreshing the watch of task {TaskId} of session {SessionId} failed; trying again after the next interval")]
    private partial void LogRefreshFailed(Exception exception, string sessionId, long taskId);

    [LoggerMessage(5012, LogLevel.Debug, "Unwatching task {TaskId} of session {SessionId} failed")]
    private partial void LogUnwatchFailed(Exception exception, string sessionId, long taskId);

    [LoggerMessage(5013, LogLevel.Debug, "Deleting the task watcher's object reference failed")]
    private partial void LogDeleteReferenceFailed(Exception exception);
}
