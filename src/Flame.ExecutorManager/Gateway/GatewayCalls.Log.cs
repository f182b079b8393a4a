using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Gateway;

internal sealed partial class GatewayCalls
{
    // The event ids and the category (the executor worker's logger) are the ones these lines had in ExecutorWorker.
    [LoggerMessage(4124, LogLevel.Warning, "Executor {ExecutorId}: the gateway is unavailable for {Rpc}; trying again in {DelayMs:0} ms ({Detail})")]
    private partial void LogGatewayUnavailable(string executorId, string rpc, double delayMs, LogText detail);

    [LoggerMessage(4125, LogLevel.Warning, "Executor {ExecutorId}: {Rpc} was refused: {Reason}")]
    private partial void LogCallRefused(string executorId, string rpc, LogText reason);

    [LoggerMessage(4112, LogLevel.Debug, "Executor {ExecutorId} completed task {TaskId} of session {SessionId} with return code {ReturnCode}")]
    private partial void LogTaskCompleted(string executorId, string sessionId, string taskId, int returnCode);

    [LoggerMessage(4117, LogLevel.Information, "The gateway refused the completion of task {TaskId} of session {SessionId} by executor {ExecutorId}: {Reason}")]
    private partial void LogCompletionRefused(string executorId, string sessionId, string taskId, LogText reason);
}
