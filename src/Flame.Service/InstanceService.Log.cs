using Microsoft.Extensions.Logging;

namespace Flame.Service;

internal sealed partial class InstanceService
{
    [LoggerMessage(6000, LogLevel.Warning, "OnSessionEnter of session {SessionId} failed")]
    private partial void LogSessionEnterFailed(Exception exception, string sessionId);

    [LoggerMessage(6001, LogLevel.Warning, "Task {TaskId} of session {SessionId} failed with an unexpected exception")]
    private partial void LogTaskFailed(Exception exception, string sessionId, string taskId);

    [LoggerMessage(6002, LogLevel.Warning, "OnSessionLeave failed")]
    private partial void LogSessionLeaveFailed(Exception exception);
}
