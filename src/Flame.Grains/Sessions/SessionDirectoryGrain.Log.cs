using Microsoft.Extensions.Logging;

namespace Flame.Grains.Sessions;

public sealed partial class SessionDirectoryGrain
{
    [LoggerMessage(EventId = 1198, Level = LogLevel.Information, Message = "Pruned {Count} session(s) closed before {ClosedBefore:O}")]
    private partial void LogPruned(int count, DateTimeOffset closedBefore);

    [LoggerMessage(EventId = 1199, Level = LogLevel.Information, Message = "Recovery: {Sessions} open session(s) with work woken ({Pending} pending, {Running} running task(s)), found in {Milliseconds:F0} ms; the other sessions come back when used")]
    private partial void LogRecovery(int sessions, long pending, long running, double milliseconds);
}
