namespace Flame.ObjectCache.Flight;

public sealed partial class ObjectCacheFlightServer
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Debug, Message = "Object {Key}: {Operation} wrote version {Version} ({Bytes} bytes)")]
    private static partial void LogWritten(ILogger logger, string operation, string key, long version, long bytes);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "DELETE {Target}: {Count} objects deleted")]
    private static partial void LogDeleted(ILogger logger, string target, int count);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "Object cache {Call} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string call);
}
