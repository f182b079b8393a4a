using Flame.ExecutorManager.States;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

internal sealed partial class ExecutorWorker
{
    [LoggerMessage(100, LogLevel.Information, "Executor {ExecutorId} registered")]
    private partial void LogRegistered(string executorId);

    [LoggerMessage(101, LogLevel.Warning, "The gateway refused to register executor {ExecutorId} (return code {ReturnCode}: {Message}); the executor ends")]
    private partial void LogRegisterRefused(string executorId, int returnCode, LogText message);

    [LoggerMessage(102, LogLevel.Warning, "Registering executor {ExecutorId} failed with {StatusCode}: {Detail}; the executor ends")]
    private partial void LogRegisterFailed(string executorId, StatusCode statusCode, LogText detail);

    [LoggerMessage(103, LogLevel.Information, "The gateway has no work for executor {ExecutorId}; it is released")]
    private partial void LogNoWork(string executorId);

    [LoggerMessage(104, LogLevel.Warning, "The gateway does not know executor {ExecutorId} ({Detail}); it is released")]
    private partial void LogUnknownToGateway(string executorId, LogText detail);

    [LoggerMessage(105, LogLevel.Information, "Executor {ExecutorId} is binding to session {SessionId} of application {Application}")]
    private partial void LogBinding(string executorId, string sessionId, string application);

    [LoggerMessage(106, LogLevel.Debug, "Executor {ExecutorId} started the service of session {SessionId} (pid {ProcessId}) in {Milliseconds} ms")]
    private partial void LogServiceStarted(string executorId, string sessionId, int processId, double milliseconds);

    [LoggerMessage(107, LogLevel.Warning, "Executor {ExecutorId} could not start the service of session {SessionId}: {Reason}")]
    private partial void LogServiceStartFailed(string executorId, string sessionId, LogText reason);

    [LoggerMessage(108, LogLevel.Warning, "Executor {ExecutorId} failed to enter session {SessionId} (return code {ReturnCode}: {Message}); the service is stopped")]
    private partial void LogBindFailed(string executorId, string sessionId, int returnCode, LogText message);

    [LoggerMessage(109, LogLevel.Warning, "The gateway refused the binding of executor {ExecutorId} to session {SessionId} ({Reason}); the service is stopped")]
    private partial void LogBindCompletionRefused(string executorId, string sessionId, LogText reason);

    [LoggerMessage(110, LogLevel.Information, "Executor {ExecutorId} is bound to session {SessionId} (service pid {ProcessId})")]
    private partial void LogBound(string executorId, string sessionId, int processId);

    [LoggerMessage(111, LogLevel.Debug, "Executor {ExecutorId} runs task {TaskId} of session {SessionId}")]
    private partial void LogTaskInvoking(string executorId, string sessionId, string taskId);

    [LoggerMessage(112, LogLevel.Debug, "Executor {ExecutorId} completed task {TaskId} of session {SessionId} with return code {ReturnCode}")]
    private partial void LogTaskCompleted(string executorId, string sessionId, string taskId, int returnCode);

    [LoggerMessage(113, LogLevel.Warning, "Task {TaskId} of session {SessionId} on executor {ExecutorId} timed out after {Seconds}s; the service was killed")]
    private partial void LogTaskTimedOut(string executorId, string sessionId, string taskId, double seconds);

    [LoggerMessage(114, LogLevel.Warning, "The service of executor {ExecutorId} exited with code {ExitCode} while running task {TaskId} of session {SessionId}")]
    private partial void LogServiceDied(string executorId, string sessionId, string taskId, int exitCode);

    [LoggerMessage(115, LogLevel.Warning, "Executor {ExecutorId} lost its service while running task {TaskId} of session {SessionId} ({Detail}); the service was killed")]
    private partial void LogServiceUnreachable(string executorId, string sessionId, string taskId, LogText detail);

    [LoggerMessage(116, LogLevel.Warning, "The service of executor {ExecutorId} answered task {TaskId} of session {SessionId} with {StatusCode}: {Detail}")]
    private partial void LogTaskRpcFailed(string executorId, string sessionId, string taskId, StatusCode statusCode, LogText detail);

    [LoggerMessage(117, LogLevel.Information, "The gateway refused the completion of task {TaskId} of session {SessionId} by executor {ExecutorId}: {Reason}")]
    private partial void LogCompletionRefused(string executorId, string sessionId, string taskId, LogText reason);

    [LoggerMessage(118, LogLevel.Warning, "The service of executor {ExecutorId} did not leave session {SessionId} in time or failed to")]
    private partial void LogSessionLeaveFailed(string executorId, string sessionId);

    [LoggerMessage(119, LogLevel.Warning, "The service of executor {ExecutorId} (session {SessionId}, pid {ProcessId}) did not exit within {Seconds}s of SIGTERM; it was killed")]
    private partial void LogServiceKilled(string executorId, string sessionId, int processId, double seconds);

    [LoggerMessage(120, LogLevel.Information, "Executor {ExecutorId} left session {SessionId}")]
    private partial void LogUnbound(string executorId, string sessionId);

    [LoggerMessage(121, LogLevel.Error, "Executor {ExecutorId} failed in session {SessionId} while {State}; its service is killed and it waits for work again")]
    private partial void LogBindingFault(Exception exception, string executorId, string sessionId, ExecutorWorkerState state);

    [LoggerMessage(122, LogLevel.Error, "Executor {ExecutorId} failed")]
    private partial void LogExecutorFault(Exception exception, string executorId);

    [LoggerMessage(123, LogLevel.Information, "Executor {ExecutorId} released")]
    private partial void LogReleased(string executorId);

    [LoggerMessage(124, LogLevel.Warning, "Executor {ExecutorId}: the gateway is unavailable for {Rpc}; trying again in {DelayMs:0} ms ({Detail})")]
    private partial void LogGatewayUnavailable(string executorId, string rpc, double delayMs, LogText detail);

    [LoggerMessage(125, LogLevel.Warning, "Executor {ExecutorId}: {Rpc} was refused: {Reason}")]
    private partial void LogCallRefused(string executorId, string rpc, LogText reason);

    [LoggerMessage(126, LogLevel.Warning,
        "Executor {ExecutorId}: the socket path {LongPath} is longer than {MaxBytes} bytes, the limit of a Unix socket path; the service listens on {SocketPath} instead")]
    private partial void LogSocketPathShortened(string executorId, string socketPath, string longPath, int maxBytes);

    [LoggerMessage(127, LogLevel.Information, "Executor {ExecutorId} enters session {SessionId} with the running service of application {Application} (pid {ProcessId}): no restart")]
    private partial void LogServiceReused(string executorId, string sessionId, int processId, string application);

    [LoggerMessage(128, LogLevel.Debug, "Executor {ExecutorId} left session {SessionId}; its service (pid {ProcessId}) keeps running for the next session of its application")]
    private partial void LogServiceKeptWarm(string executorId, string sessionId, int processId);

    [LoggerMessage(129, LogLevel.Warning, "Executor {ExecutorId}: the kept service (pid {ProcessId}) could not enter session {SessionId} ({Reason}); starting a fresh one")]
    private partial void LogReusedServiceRefused(string executorId, string sessionId, int processId, LogText reason);

    [LoggerMessage(130, LogLevel.Warning, "Executor {ExecutorId}: the gateway refused BindExecutor ({Reason}); it still holds a binding this executor left: ending it there and asking again")]
    private partial void LogBindingOutOfStep(string executorId, LogText reason);

    [LoggerMessage(161, LogLevel.Information, "Executor {ExecutorId}: the service (pid {ProcessId}) gets its tasks through {Channel}: {Reason}")]
    private partial void LogTaskChannel(string executorId, int processId, string channel, LogText reason);
}
