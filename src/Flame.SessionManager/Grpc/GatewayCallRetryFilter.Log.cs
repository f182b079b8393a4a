using Microsoft.Extensions.Logging;

namespace Flame.SessionManager.Grpc;

internal sealed partial class GatewayCallRetryFilter
{
    [LoggerMessage(EventId = 2020, Level = LogLevel.Information,
        Message = "Grain call {Interface}.{Method} failed before it ran (attempt {Attempt}); sending it again in {BackoffMs} ms: {Reason}")]
    private partial void LogRetrying(string @interface, string method, int attempt, double backoffMs, string reason);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Information, Message = "Grain call {Interface}.{Method} went through at attempt {Attempt}")]
    private partial void LogRecovered(string @interface, string method, int attempt);
}
