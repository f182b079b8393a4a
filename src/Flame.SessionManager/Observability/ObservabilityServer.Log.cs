namespace Flame.SessionManager.Observability;

internal sealed partial class ObservabilityServer
{
    [LoggerMessage(EventId = 2400, Level = LogLevel.Information, Message = "Dashboard at {Address}/, Prometheus metrics at {Address}/metrics")]
    private partial void LogListening(string address);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning,
        Message = "The dashboard and /metrics are off: {Address} cannot be listened on ({Reason}); set Flame:Observability:Endpoint to another port, or to none")]
    private partial void LogNotListening(string address, string reason);
}
