using Microsoft.Extensions.Logging;

namespace Flame.Grains.Nodes;

public sealed partial class NodeGrain
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Node {Node} registered with {Allocatable} for executors")]
    private partial void LogRegistered(string node, string allocatable);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Node {Node} is NotReady: no heartbeat for {Seconds}s; its executors are lost")]
    private partial void LogNotReady(string node, double seconds);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Node {Node} no longer counts executor {ExecutorId}: its grain does not know it (lost with the silo that held it, or released without telling the node)")]
    private partial void LogExecutorForgotten(string node, string executorId);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "Node {Node}: releasing the executors it no longer runs failed")]
    private partial void LogLoseFailed(Exception ex, string node);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Information, Message = "Node {Node} released")]
    private partial void LogReleased(string node);
}
