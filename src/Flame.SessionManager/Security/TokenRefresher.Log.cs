namespace Flame.SessionManager.Security;

internal sealed partial class TokenRefresher
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Token cache not refreshed: {Reason}")]
    private partial void LogRefreshFailed(string reason);
}
