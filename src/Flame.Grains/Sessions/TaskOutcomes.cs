using Flame.Grains.Hosting;

namespace Flame.Grains.Sessions;

/// <summary>
/// What a result or a lost attempt does to a task: Succeed, Failed (the service's own error, an output over the
/// limit, the last attempt) or back to Pending for another attempt.
/// </summary>
/// <param name="tasks">The session's task table (a new one after a delete).</param>
/// <param name="changed">Marks a task changed (written, then published).</param>
internal sealed class TaskOutcomes(
    Func<TaskTable> tasks, FlameLimitsOptions limits, FlameExecutionOptions execution, TimeProvider clock, Action<long> changed)
{
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Records the result the executor reported for <paramref name="taskId"/>.</summary>
    public void Record(long taskId, TaskResultInfo result)
    {
        if (result.ReturnCode == 0 && result.Output is { Length: var size } && size > limits.MaxTaskOutputBytes)
            Complete(taskId, TaskState.Failed, null, $"the output is {size} bytes; the limit is {limits.MaxTaskOutputBytes} (Flame:Limits:MaxTaskOutputBytes)");
        else if (result.ReturnCode == 0)
            Complete(taskId, TaskState.Succeed, result.Output, null);
        else if (result.SystemFailure || execution.RetryApplicationErrors)
            FailAttempt(taskId, string.IsNullOrEmpty(result.Message) ? $"the service returned code {result.ReturnCode}" : result.Message, result.Output);
        else
            // The service's own error: Failed at once, its message verbatim (Flame's event 3; Python: str(exception)).
            Complete(taskId, TaskState.Failed, result.Output, string.IsNullOrEmpty(result.Message) ? "Task failed with state <Failed>" : result.Message);
    }

    /// <summary>Ends a failed attempt: back to Pending while attempts remain, Failed after the last.</summary>
    public void FailAttempt(long taskId, string message, byte[]? output = null)
    {
        var table = tasks();
        var attempts = table.AttemptsOf(taskId);
        var max = execution.MaxTaskAttempts;
        if (attempts < max)
            table.Requeue(taskId, $"attempt {attempts} of {max} failed: {message}; retrying", Now);
        else
            table.Complete(taskId, TaskState.Failed, output, max == 1 ? message : $"attempt {attempts} of {max} failed: {message}", Now);
        changed(taskId);
    }

    /// <summary>Puts a task that never started back at the front of the queue (no attempt is counted).</summary>
    public void Return(long taskId, string message)
    {
        tasks().Return(taskId, message, Now);
        changed(taskId);
    }

    private void Complete(long taskId, TaskState state, byte[]? output, string? message)
    {
        tasks().Complete(taskId, state, output, message, Now);
        changed(taskId);
    }
}
