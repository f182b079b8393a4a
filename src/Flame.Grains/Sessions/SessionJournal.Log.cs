using Microsoft.Extensions.Logging;

namespace Flame.Grains.Sessions;

internal sealed partial class SessionJournal
{
    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "Session {SessionId}: writing {Tasks} task change(s) to the task store failed; retrying")]
    private partial void LogFlushFailed(Exception exception, string sessionId, int tasks);
}
