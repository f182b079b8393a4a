using Microsoft.Extensions.Logging;

namespace Flame.SessionManager.Grpc;

internal sealed partial class FlameErrorInterceptor
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "{Method} failed: the cluster did not answer")]
    private partial void LogUnavailable(string method, Exception exception);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "{Method} failed with a server fault")]
    private partial void LogFault(string method, Exception exception);
}
