using Flame.ExecutorManager.States;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

internal sealed partial class ExecutorWorker
{
    [LoggerMessage(4100, LogLevel.Information, "Executor {ExecutorId} registered")]
    private partial void LogRegistered(string executorId);

    [LoggerMessage(4101, LogLevel.Warning, "The gateway refused to register executor {ExecutorId} (return code {ReturnCode}: {Message}); the executor ends")]
    private partial void LogRegisterRefused(string executorId, int returnCode, LogText message);

    [LoggerMessage(4102, LogLevel.Warning, "Registering executor {ExecutorId} failed with {StatusCode}: {Detail}; the executor ends")]
    private partial void LogRegisterFailed(string executorId, StatusCode statusCode, LogText detail);

    [LoggerMessage(4103, LogLevel.Information, "The gateway has no work for executor {ExecutorId}; it is released")]
    private partial void LogNoWork(string executorId);

    [LoggerMessage(4104, LogLevel.Warning, "The gateway does not know executor {ExecutorId} ({Detail}); it is released")]
    private partial void LogUnknownToGateway(string executorId, LogText detail);

    [LoggerMessage(4105, LogLevel.Information, "Executor {ExecutorId} is binding to session {SessionId} of application {Application}")]
    private partial void LogBinding(string executorId, string sessionId, string application);

    [LoggerMessage(4108, LogLevel.Warning, "Executor {ExecutorId} failed to enter session {SessionId} (return code {ReturnCode}: {Message}); the service is stopped")]
    private partial void LogBindFailed(string executorId, string sessionId, int returnCode, LogText message);

    [LoggerMessage(4109, LogLevel.Warning, "The gateway refused the binding of executor {ExecutorId} to session {SessionId} ({Reason}); the service is stopped")]
    private partial void LogBindCompletionRefused(string executorId, string sessionId, LogText reason);

    [LoggerMessage(4110, LogLevel.Information, "Executor {ExecutorId} is bound to session {SessionId} (service pid {ProcessId})")]
    private partial void LogBound(string executorId, string sessionId, int processId);

    [LoggerMessage(4118, LogLevel.Warning, "The service of executor {ExecutorId} did not leave session {SessionId} in time or failed to")]
    private partial void LogSessionLeaveFailed(string executorId, string sessionId);

    [LoggerMessage(4120, LogLevel.Information, "Executor {ExecutorId} left session {SessionId}")]
    private partial void LogUnbound(string executorId, string sessionId);

    [LoggerMessage(4121, LogLevel.Error, "Executor {ExecutorId} failed in session {SessionId} while {State}; its service is killed and it waits for work again")]
    private partial void LogBindingFault(Exception exception, string executorId, string sessionId, ExecutorWorkerState state);

    [LoggerMessage(4122, LogLevel.Error, "Executor {ExecutorId} failed")]
    private partial void LogExecutorFault(Exception exception, string executorId);

    [LoggerMessage(4123, LogLevel.Information, "Executor {ExecutorId} released")]
    private partial void LogReleased(string executorId);

    [LoggerMessage(4128, LogLevel.Debug, "Executor {ExecutorId} left session {SessionId}; its service (pid {ProcessId}) keeps running for the next session of its application")]
    private partial void LogServiceKeptWarm(string executorId, string sessionId, int processId);

    [LoggerMessage(4130, LogLevel.Warning, "Executor {ExecutorId}: the gateway refused BindExecutor ({Reason}); it still holds a binding this executor left: ending it there and asking again")]
    private partial void LogBindingOutOfStep(string executorId, LogText reason);
}
