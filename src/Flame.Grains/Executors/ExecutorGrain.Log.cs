using Microsoft.Extensions.Logging;

namespace Flame.Grains.Executors;

public sealed partial class ExecutorGrain
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Executor {ExecutorId} registered on node {Node}")]
    private partial void LogRegistered(string executorId, string node);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Executor {ExecutorId} is being released by the scheduler: {Reason}")]
    private partial void LogReleasingByScheduler(string executorId, string reason);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Executor {ExecutorId} bound to session {SessionId}")]
    private partial void LogBound(string executorId, string sessionId);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Executor {ExecutorId} could not enter session {SessionId}: {Reason}")]
    private partial void LogBindFailed(string executorId, string sessionId, LogText reason);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Executor {ExecutorId} idle for {Seconds}s: releasing it")]
    private partial void LogReleasing(string executorId, int seconds);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Information, Message = "Executor {ExecutorId} released: {Reason}")]
    private partial void LogReleased(string executorId, LogText reason);
}
