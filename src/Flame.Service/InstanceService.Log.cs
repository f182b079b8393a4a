using Microsoft.Extensions.Logging;

namespace Flame.Service;

internal sealed partial class InstanceService
{
    [LoggerMessage(1, LogLevel.Warning, "OnSessionEnter of session {SessionId} failed")]
    private partial void LogSessionEnterFailed(Exception exception, string sessionId);

    [LoggerMessage(2, LogLevel.Warning, "Task {TaskId} of session {SessionId} failed with an unexpected exception")]
    private partial void LogTaskFailed(Exception exception, string sessionId, string taskId);

    [LoggerMessage(3, LogLevel.Warning, "OnSessionLeave failed")]
    private partial void LogSessionLeaveFailed(Exception exception);
}
