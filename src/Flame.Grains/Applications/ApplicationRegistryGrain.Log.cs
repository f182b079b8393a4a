using Microsoft.Extensions.Logging;

namespace Flame.Grains.Applications;

public sealed partial class ApplicationRegistryGrain
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Application {Application} registered")]
    private partial void LogRegistered(string application);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Application {Application} unregistered")]
    private partial void LogUnregistered(string application);
}
