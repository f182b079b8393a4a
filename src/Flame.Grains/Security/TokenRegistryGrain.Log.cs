using Microsoft.Extensions.Logging;

namespace Flame.Grains.Security;

public sealed partial class TokenRegistryGrain
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Token {Token} ({Role}) stored")]
    private partial void LogCreated(string token, FlameRole role);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Token {Token} removed")]
    private partial void LogRevoked(string token);
}
