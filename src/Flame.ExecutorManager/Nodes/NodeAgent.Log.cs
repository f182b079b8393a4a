using Flame.ExecutorManager.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Nodes;

internal sealed partial class NodeAgent
{
    [LoggerMessage(4001, LogLevel.Information, "Node {NodeName} starting: gateway {Endpoint}, {Slots} slots")]
    private partial void LogStarting(string nodeName, string endpoint, int slots);

    [LoggerMessage(4002, LogLevel.Information, "Node {NodeName} registered with the gateway at {Endpoint} ({Running} executors running)")]
    private partial void LogRegistered(string nodeName, string endpoint, int running);

    [LoggerMessage(4003, LogLevel.Warning, "Node {NodeName} cannot register with or watch the gateway at {Endpoint} ({StatusCode}: {Detail}); trying again")]
    private partial void LogGatewayUnreachable(string nodeName, string endpoint, StatusCode statusCode, LogText detail);

    [LoggerMessage(4004, LogLevel.Error, "Node {NodeName}: the watch of the gateway failed; trying again")]
    private partial void LogNodeFault(Exception exception, string nodeName);

    [LoggerMessage(4005, LogLevel.Warning, "Node {NodeName}: the gateway ended the watch stream; reconnecting")]
    private partial void LogWatchEnded(string nodeName);

    [LoggerMessage(4006, LogLevel.Warning, "Node {NodeName}: no answer on the watch stream for {Seconds}s; reconnecting")]
    private partial void LogWatchSilent(string nodeName, double seconds);

    [LoggerMessage(4007, LogLevel.Trace, "Node {NodeName}: heartbeat acknowledged at {Timestamp}")]
    private partial void LogAck(string nodeName, long timestamp);

    [LoggerMessage(4008, LogLevel.Information, "Executor {ExecutorId} created for session {SessionId} ({Running} of {Slots} slots taken)")]
    private partial void LogExecutorCreated(string executorId, string sessionId, int running, int slots);

    [LoggerMessage(4009, LogLevel.Debug, "Executor {ExecutorId} runs already; the repeated request is ignored")]
    private partial void LogExecutorDuplicate(string executorId);

    [LoggerMessage(4010, LogLevel.Warning, "Executor {ExecutorId} for session {SessionId} refused: all {Slots} slots are taken")]
    private partial void LogExecutorRefused(string executorId, string sessionId, int slots);

    [LoggerMessage(4011, LogLevel.Information, "Executor {ExecutorId} for session {SessionId} refused: the node is shutting down")]
    private partial void LogExecutorRefusedShuttingDown(string executorId, string sessionId);

    [LoggerMessage(4012, LogLevel.Information, "Executor {ExecutorId} is being released")]
    private partial void LogExecutorReleasing(string executorId);

    [LoggerMessage(4013, LogLevel.Debug, "Executor {ExecutorId} is released by the gateway but does not run here; unregistering it")]
    private partial void LogExecutorReleaseUnknown(string executorId);

    [LoggerMessage(4014, LogLevel.Debug, "Executor {ExecutorId}: update to state {State} ignored")]
    private partial void LogExecutorUpdateIgnored(string executorId, V1.ExecutorState state);

    [LoggerMessage(4015, LogLevel.Warning, "Node {NodeName}: an executor update in state {State} has no id; ignored")]
    private partial void LogExecutorWithoutId(string nodeName, V1.ExecutorState state);

    [LoggerMessage(4016, LogLevel.Debug, "UnregisterExecutor of executor {ExecutorId} was refused: {Reason}")]
    private partial void LogUnregisterRefused(string executorId, LogText reason);

    [LoggerMessage(4017, LogLevel.Information, "Node {NodeName} released")]
    private partial void LogNodeReleased(string nodeName);

    [LoggerMessage(4018, LogLevel.Warning, "ReleaseNode of node {NodeName} failed: {Reason}")]
    private partial void LogReleaseRefused(string nodeName, LogText reason);

    private const string AllowedCommandsKey = FlameExecutorManagerOptions.Section + ":" + nameof(FlameExecutorManagerOptions.AllowedCommands);

    [LoggerMessage(4019, LogLevel.Warning, "Node {NodeName} refuses every service: {Key} is empty and no built-in service is next to this program")]
    private partial void LogNothingAllowed(string nodeName, string key);

    [LoggerMessage(4020, LogLevel.Information, "Node {NodeName} runs only the built-in applications and {Key}: {Allowed}; every other command is refused")]
    private partial void LogAllowedCommands(string nodeName, string allowed, string key);
}
