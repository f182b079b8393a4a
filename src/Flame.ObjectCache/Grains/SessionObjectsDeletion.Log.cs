namespace Flame.ObjectCache.Grains;

internal sealed partial class SessionObjectsDeletion
{
    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Session {SessionId} deleted: {Count} of its objects deleted with it")]
    private static partial void LogDeleted(ILogger logger, string sessionId, int count);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Session {SessionId} deleted, but its objects could not be: delete them with flmctl object delete --session")]
    private static partial void LogFailed(ILogger logger, Exception exception, string sessionId);
}
