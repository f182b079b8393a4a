using Microsoft.Extensions.Logging;

namespace Flame.Grains.Scheduling;

public sealed partial class SchedulerGrain
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Planned to preempt executor {ExecutorId} from session {FromSession} for session {ForSession}: {Reason}")]
    private partial void LogPreemptionPlanned(string executorId, string fromSession, string forSession, string reason);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Session {SessionId} waits: no node runs shim {Shim}")]
    private partial void LogNoNodeForShim(string sessionId, Shim shim);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Releasing idle executor {ExecutorId}: {Reason}")]
    private partial void LogReleasingPreempted(string executorId, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Asked node {Node} for executor {ExecutorId} for session {SessionId}")]
    private partial void LogCreating(string executorId, string node, string sessionId);
}
