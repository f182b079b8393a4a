using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

internal sealed partial class SessionBinder
{
    // The event ids and the category (the executor worker's logger) are the ones these lines had in ExecutorWorker.
    [LoggerMessage(4106, LogLevel.Debug, "Executor {ExecutorId} started the service of session {SessionId} (pid {ProcessId}) in {Milliseconds} ms")]
    private partial void LogServiceStarted(string executorId, string sessionId, int processId, double milliseconds);

    [LoggerMessage(4107, LogLevel.Warning, "Executor {ExecutorId} could not start the service of session {SessionId}: {Reason}")]
    private partial void LogServiceStartFailed(string executorId, string sessionId, LogText reason);

    [LoggerMessage(4119, LogLevel.Warning, "The service of executor {ExecutorId} (session {SessionId}, pid {ProcessId}) did not exit within {Seconds}s of SIGTERM; it was killed")]
    private partial void LogServiceKilled(string executorId, string sessionId, int processId, double seconds);

    [LoggerMessage(4126, LogLevel.Warning,
        "Executor {ExecutorId}: the socket path {LongPath} is longer than {MaxBytes} bytes, the limit of a Unix socket path; the service listens on {SocketPath} instead")]
    private partial void LogSocketPathShortened(string executorId, string socketPath, string longPath, int maxBytes);

    [LoggerMessage(4127, LogLevel.Information, "Executor {ExecutorId} enters session {SessionId} with the running service of application {Application} (pid {ProcessId}): no restart")]
    private partial void LogServiceReused(string executorId, string sessionId, int processId, string application);

    [LoggerMessage(4129, LogLevel.Warning, "Executor {ExecutorId}: the kept service (pid {ProcessId}) could not enter session {SessionId} ({Reason}); starting a fresh one")]
    private partial void LogReusedServiceRefused(string executorId, string sessionId, int processId, LogText reason);

    [LoggerMessage(4161, LogLevel.Information, "Executor {ExecutorId}: the service (pid {ProcessId}) gets its tasks through {Channel}: {Reason}")]
    private partial void LogTaskChannel(string executorId, int processId, string channel, LogText reason);
}
