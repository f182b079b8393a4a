using Flame.ExecutorManager.Shims;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

/// <summary>
/// Runs a bound executor's tasks on its service, one binding's worth: each task's context from the wire task, its
/// timeout, and every way an invocation can fail turned into a result (Flame's codes: -1 the service is gone,
/// -2 timed out, -3 a gRPC error from the service).
/// </summary>
internal sealed partial class TaskRunner(HostShim shim, string executorId, string sessionId, TimeSpan taskTimeout, ILogger logger)
    : ITaskRunner
{
    /// <summary>How long a service that broke its connection mid-task gets to be seen as exited.</summary>
    internal static readonly TimeSpan ExitDetectionGrace = TimeSpan.FromSeconds(2);

    private readonly ILogger _logger = logger;

    public bool CanPipeline => shim.CanPipeline;

    public bool TaskStreamOpen => shim.TaskStreamOpen;

    public void Kill() => shim.Kill();

    /// <summary>
    /// Runs one task on the service and turns every way it can fail into a result. <paramref name="sent"/>: it is on
    /// the service's stream already (sent behind the one before), only its result is awaited. <paramref name="behind"/>:
    /// a task to put on the service's stream behind this one before its result is awaited (the service must serve the
    /// stream, <see cref="HostShim.CanPipeline"/>); <c>BehindSent</c> says whether it is. The task's timeout runs from
    /// here, when the service starts it.
    /// </summary>
    public async Task<TaskOutcome> InvokeAsync(V1.Task task, bool sent, V1.Task? behind, CancellationToken cancellationToken)
    {
        var taskId = task.Metadata?.Id ?? "";
        DateTime? deadline = taskTimeout > TimeSpan.Zero ? DateTime.UtcNow + taskTimeout : null;
        LogTaskInvoking(executorId, sessionId, taskId);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            if (!sent && behind is null)
                return new(FromService(await shim.InvokeAsync(Context(task), deadline, cancellationToken).ConfigureAwait(false)), false, false);
            var (result, behindSent) = await shim.InvokePipelinedAsync(
                sent ? null : Context(task), behind is null ? null : Context(behind), deadline, cancellationToken).ConfigureAwait(false);
            return new(FromService(result), false, behindSent);
        }
        catch (Exception ex) when (deadline is not null && !cancellationToken.IsCancellationRequested
                                   && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.DeadlineExceeded })
        {
            // The channel throws OperationCanceledException for a passed deadline (ThrowOperationCanceledOnCancellation).
            shim.Kill();
            LogTaskTimedOut(executorId, sessionId, taskId, taskTimeout.TotalSeconds);
            return Gone(-2, $"task {taskId} timed out after {taskTimeout.TotalSeconds:0.###}s; the service was killed");
        }
        catch (RpcException ex)
        {
            if (await shim.WaitForExitAsync(ExitDetectionGrace).ConfigureAwait(false))
            {
                LogServiceDied(executorId, sessionId, taskId, shim.ExitCode);
                return Gone(-1, $"service process exited with code {shim.ExitCode} while running task {taskId}");
            }
            if (ex.StatusCode == StatusCode.Unavailable)
            {
                // Alive but unreachable: a service that cannot be talked to is as good as dead.
                shim.Kill();
                LogServiceUnreachable(executorId, sessionId, taskId, ex.Status.Detail);
                return Gone(-1, $"lost the connection to the service process while running task {taskId} ({ex.Status.Detail}); the service was killed");
            }
            // The service answered with a gRPC error instead of a TaskResult: the task failed, the service lives on.
            LogTaskRpcFailed(executorId, sessionId, taskId, ex.StatusCode, ex.Status.Detail);
            return new(new V1.TaskResult
            {
                ReturnCode = -3,
                Message = $"the service answered task {taskId} with gRPC status {ex.StatusCode}: {ex.Status.Detail}",
            }, false, false);
        }
        finally
        {
            Diagnostics.ExecutorManagerMetrics.TaskInvokeDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>A system failure that took the service with it: the task gets another attempt.</summary>
    private static TaskOutcome Gone(int returnCode, string message) =>
        new(new V1.TaskResult { ReturnCode = returnCode, SystemFailure = true, Message = message }, true, false);

    /// <summary>
    /// A result as the service returned it, without <c>system_failure</c>: only the executor manager says that a task
    /// failed through no fault of its own (and gets another attempt); a service that set it could retry its own errors.
    /// </summary>
    internal static V1.TaskResult FromService(V1.TaskResult result)
    {
        result.SystemFailure = false;
        return result;
    }

    private V1.TaskContext Context(V1.Task task)
    {
        var context = new V1.TaskContext { TaskId = task.Metadata?.Id ?? "", SessionId = sessionId };
        if (task.Spec is { HasInput: true } taskSpec)
            context.Input = taskSpec.Input;
        return context;
    }
}
