using Microsoft.Extensions.Logging;

namespace Flame.Client;

public sealed partial class OrleansFlameClient
{
    [LoggerMessage(5000, LogLevel.Warning, "A grain call failed with an unexpected exception; reported as an internal error")]
    private partial void LogGrainCallFailed(Exception exception);

    [LoggerMessage(5001, LogLevel.Information, "The watch of session {SessionId} was lost (its silo died): watching it again and reading what finished meanwhile")]
    private partial void LogSessionWatchLost(string sessionId);
}
