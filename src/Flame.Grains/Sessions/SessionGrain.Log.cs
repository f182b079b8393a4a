using Microsoft.Extensions.Logging;

namespace Flame.Grains.Sessions;

public sealed partial class SessionGrain
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Session {SessionId} created for application {Application}")]
    private partial void LogCreated(string sessionId, string application);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Session {SessionId} closed; {Cancelled} pending task(s) cancelled")]
    private partial void LogClosed(string sessionId, int cancelled);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Session {SessionId} deleted")]
    private partial void LogDeleted(string sessionId);

    // Only sessions whose running tasks lost an attempt; the others come back by the thousand as they are used (1105,
    // Debug), and a recovery's one summary line is the directory's (1199).
    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Session {SessionId} restored from the task store: {Tasks} task(s), {Lost} running task(s) lost an attempt")]
    private partial void LogRestored(string sessionId, int tasks, int lost);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Debug, Message = "Session {SessionId} back from the task store: {Tasks} task(s), none was running")]
    private partial void LogReactivated(string sessionId, int tasks);
}
