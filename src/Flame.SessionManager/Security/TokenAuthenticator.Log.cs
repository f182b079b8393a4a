using Microsoft.Extensions.Logging;

namespace Flame.SessionManager.Security;

public sealed partial class TokenAuthenticator
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Debug, Message = "Token cache refreshed: version {Version}, {Count} tokens")]
    private partial void LogRefreshed(long version, int count);
}
