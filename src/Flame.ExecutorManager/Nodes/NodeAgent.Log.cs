using Flame.ExecutorManager.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Nodes;

internal sealed partial class NodeAgent
{
    [LoggerMessage(1, LogLevel.Information, "Node {NodeName} starting: gateway {Endpoint}, {Slots} slots")]
    private partial void LogStarting(string nodeName, string endpoint, int slots);

    [LoggerMessage(2, LogLevel.Information, "Node {NodeName} registered with the gateway at {Endpoint} ({Running} executors running)")]
    private partial void LogRegistered(string nodeName, string endpoint, int running);

    [LoggerMessage(3, LogLevel.Warning, "Node {NodeName} cannot register with or watch the gateway at {Endpoint} ({StatusCode}: {Detail}); trying again")]
    private partial void LogGatewayUnreachable(string nodeName, string endpoint, StatusCode statusCode, LogText detail);

    [LoggerMessage(4, LogLevel.Error, "Node {NodeName}: the watch of the gateway failed; trying again")]
    private partial void LogNodeFault(Exception exception, string nodeName);

    [LoggerMessage(5, LogLevel.Warning, "Node {NodeName}: the gateway ended the watch stream; reconnecting")]
    private partial void LogWatchEnded(string nodeName);

    [LoggerMessage(6, LogLevel.Warning, "Node {NodeName}: no answer on the watch stream for {Seconds}s; reconnecting")]
    private partial void LogWatchSilent(string nodeName, double seconds);

    [LoggerMessage(7, LogLevel.Trace, "Node {NodeName}: heartbeat acknowledged at {Timestamp}")]
    private partial void LogAck(string nodeName, long timestamp);

    [LoggerMessage(8, LogLevel.Information, "Executor {ExecutorId} created for session {SessionId} ({Running} of {Slots} slots taken)")]
    private partial void LogExecutorCreated(string executorId, string sessionId, int running, int slots);

    [LoggerMessage(9, LogLevel.Debug, "Executor {ExecutorId} runs already; the repeated request is ignored")]
    private partial void LogExecutorDuplicate(string executorId);

    [LoggerMessage(10, LogLevel.Warning, "Executor {ExecutorId} for session {SessionId} refused: all {Slots} slots are taken")]
    private partial void LogExecutorRefused(string executorId, string sessionId, int slots);

    [LoggerMessage(11, LogLevel.Information, "Executor {ExecutorId} for session {SessionId} refused: the node is shutting down")]
    private partial void LogExecutorRefusedShuttingDown(string executorId, string sessionId);

    [LoggerMessage(12, LogLevel.Information, "Executor {ExecutorId} is being released")]
    private partial void LogExecutorReleasing(string executorId);

    [LoggerMessage(13, LogLevel.Debug, "Executor {ExecutorId} is released by the gateway but does not run here; unregistering it")]
    private partial void LogExecutorReleaseUnknown(string executorId);

    [LoggerMessage(14, LogLevel.Debug, "Executor {ExecutorId}: update to state {State} ignored")]
    private partial void LogExecutorUpdateIgnored(string executorId, V1.ExecutorState state);

    [LoggerMessage(15, LogLevel.Warning, "Node {NodeName}: an executor update in state {State} has no id; ignored")]
    private partial void LogExecutorWithoutId(string nodeName, V1.ExecutorState state);

    [LoggerMessage(16, LogLevel.Debug, "UnregisterExecutor of executor {ExecutorId} was refused: {Reason}")]
    private partial void LogUnregisterRefused(string executorId, LogText reason);

    [LoggerMessage(17, LogLevel.Information, "Node {NodeName} released")]
    private partial void LogNodeReleased(string nodeName);

    [LoggerMessage(18, LogLevel.Warning, "ReleaseNode of node {NodeName} failed: {Reason}")]
    private partial void LogReleaseRefused(string nodeName, LogText reason);

    private const string AllowedCommandsKey = FlameExecutorManagerOptions.Section + ":" + nameof(FlameExecutorManagerOptions.AllowedCommands);

    [LoggerMessage(19, LogLevel.Warning, "Node {NodeName} refuses every service: {Key} is empty and no built-in service is next to this program")]
    private partial void LogNothingAllowed(string nodeName, string key);

    [LoggerMessage(20, LogLevel.Information, "Node {NodeName} runs only the built-in applications and {Key}: {Allowed}; every other command is refused")]
    private partial void LogAllowedCommands(string nodeName, string allowed, string key);
}
