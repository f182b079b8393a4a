namespace Flame.SessionManager.Hosting;

internal sealed partial class BuiltInApplications
{
    [LoggerMessage(EventId = 2220, Level = LogLevel.Information, Message = "Registered the built-in application {Application} ({Service})")]
    private partial void LogRegistered(string application, string service);
}
