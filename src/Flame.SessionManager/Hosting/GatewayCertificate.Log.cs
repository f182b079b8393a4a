namespace Flame.SessionManager.Hosting;

public sealed partial class GatewayCertificate
{
    [LoggerMessage(2210, LogLevel.Information, "TLS certificate {File} read again: {Subject}, valid until {NotAfter:u}")]
    private static partial void LogReloaded(ILogger logger, string file, string subject, DateTime notAfter);

    [LoggerMessage(2211, LogLevel.Warning, "TLS certificate {File} changed but cannot be used yet ({Reason}); still serving the previous one")]
    private static partial void LogReloadFailed(ILogger logger, string file, string reason);
}
