namespace Flame.Grains.Executors;

/// <summary>
/// The legal moves of an executor's lifecycle. Pure: the executor grain asks before it changes
/// anything, so an illegal request is refused whole.
/// </summary>
public static class ExecutorStateMachine
{
    /// <summary>True if an executor in <paramref name="from"/> may move to <paramref name="to"/>.</summary>
    public static bool CanMove(ExecutorState from, ExecutorState to) => (from, to) switch
    {
        (_, ExecutorState.Released) => from != ExecutorState.Released,
        (ExecutorState.Void, ExecutorState.Idle) => true,
        (ExecutorState.Released, ExecutorState.Idle) => true, // registered again after a release
        (ExecutorState.Idle, ExecutorState.Binding) => true,
        (ExecutorState.Idle, ExecutorState.Releasing) => true,
        (ExecutorState.Binding, ExecutorState.Bound) => true,
        (ExecutorState.Binding, ExecutorState.Idle) => true, // the service failed to enter the session
        (ExecutorState.Bound, ExecutorState.Unbinding) => true,
        (ExecutorState.Unbinding, ExecutorState.Idle) => true,
        _ => false,
    };

    /// <summary>Returns <paramref name="to"/>, or throws FailedPrecondition naming the refused move.</summary>
    public static ExecutorState Move(string executorId, ExecutorState from, ExecutorState to, string action) =>
        CanMove(from, to)
            ? to
            : throw FlameException.FailedPrecondition(
                $"executor '{executorId}' is {from}; {action} would move it to {to}, which is not allowed");
}
