namespace Flame.SessionManager.Hosting;

public static partial class SessionManagerApp
{
    [LoggerMessage(2200, LogLevel.Information, "{Summary}")]
    private static partial void LogSecurity(ILogger logger, string summary);

    [LoggerMessage(2201, LogLevel.Warning, "{Summary}")]
    private static partial void LogInsecure(ILogger logger, string summary);
}
