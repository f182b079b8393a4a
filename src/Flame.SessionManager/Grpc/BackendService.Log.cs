using Microsoft.Extensions.Logging;

namespace Flame.SessionManager.Grpc;

internal sealed partial class BackendService
{
    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Node {Node} is watching for executor orders")]
    private partial void LogWatching(string node);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Node {Node}: could not end its watch")]
    private partial void LogUnwatchFailed(string node, Exception exception);
}
