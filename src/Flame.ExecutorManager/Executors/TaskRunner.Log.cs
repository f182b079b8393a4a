using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

internal sealed partial class TaskRunner
{
    // The event ids and the category (the executor worker's logger) are the ones these lines had in ExecutorWorker.
    [LoggerMessage(4111, LogLevel.Debug, "Executor {ExecutorId} runs task {TaskId} of session {SessionId}")]
    private partial void LogTaskInvoking(string executorId, string sessionId, string taskId);

    [LoggerMessage(4113, LogLevel.Warning, "Task {TaskId} of session {SessionId} on executor {ExecutorId} timed out after {Seconds}s; the service was killed")]
    private partial void LogTaskTimedOut(string executorId, string sessionId, string taskId, double seconds);

    [LoggerMessage(4114, LogLevel.Warning, "The service of executor {ExecutorId} exited with code {ExitCode} while running task {TaskId} of session {SessionId}")]
    private partial void LogServiceDied(string executorId, string sessionId, string taskId, int exitCode);

    [LoggerMessage(4115, LogLevel.Warning, "Executor {ExecutorId} lost its service while running task {TaskId} of session {SessionId} ({Detail}); the service was killed")]
    private partial void LogServiceUnreachable(string executorId, string sessionId, string taskId, LogText detail);

    [LoggerMessage(4116, LogLevel.Warning, "The service of executor {ExecutorId} answered task {TaskId} of session {SessionId} with {StatusCode}: {Detail}")]
    private partial void LogTaskRpcFailed(string executorId, string sessionId, string taskId, StatusCode statusCode, LogText detail);
}
