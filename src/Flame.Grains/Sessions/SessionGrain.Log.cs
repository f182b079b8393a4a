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

    // Debug: after a restart sessions come back one by one as they are needed; the recovery's one line is the directory's (1199).
    [LoggerMessage(EventId = 1104, Level = LogLevel.Debug, Message = "Session {SessionId} restored from the task store: {Tasks} task(s), {Lost} running task(s) lost an attempt")]
    private partial void LogRestored(string sessionId, int tasks, int lost);
}
