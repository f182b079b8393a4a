namespace Flame.Service;

/// <summary>
/// A Flame service: the code that runs the tasks of one application's sessions. Derive from it,
/// implement <see cref="OnTaskInvokeAsync"/>, and run it with <see cref="FlameServiceHost.RunAsync(FlameService, string[], CancellationToken)"/>.
/// </summary>
/// <remarks>
/// <para>
/// An executor manager starts the service process and drives one instance through a binding:
/// <see cref="OnSessionEnterAsync"/> once, then <see cref="OnTaskInvokeAsync"/> for each task (one at a time),
/// then <see cref="OnSessionLeaveAsync"/>; then it usually stops the process. Keep per-session state
/// (such as decoded common data) in fields set by <see cref="OnSessionEnterAsync"/>. The SDK does not
/// serialize calls itself: a caller that overlaps calls gets them concurrently.
/// </para>
/// <para>
/// Failures: an exception thrown by any of the three methods is reported to Flame as a failed result
/// (return code 1, message <c>"ExceptionType: message"</c>), and the process keeps serving. Throw a
/// <see cref="FlameTaskException"/> to choose the return code and the exact message.
/// </para>
/// <para>
/// The cancellation token passed to each method is cancelled when the caller gives up on the call or
/// when the process is being stopped (SIGTERM).
/// </para>
/// </remarks>
public abstract class FlameService
{
    /// <summary>
    /// Called once when this instance is bound to a session, before any of its tasks. The default does nothing.
    /// An exception makes the binding fail (the executor manager reports it to the session).
    /// </summary>
    public virtual Task OnSessionEnterAsync(SessionContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs one task and returns its output (null for none). The returned array is sent without a copy:
    /// do not change it afterwards. An exception fails the task (see <see cref="FlameService"/>).
    /// </summary>
    public abstract Task<byte[]?> OnTaskInvokeAsync(TaskContext context, CancellationToken cancellationToken);

    /// <summary>Called once when this instance leaves its session, after its last task. The default does nothing.</summary>
    public virtual Task OnSessionLeaveAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
