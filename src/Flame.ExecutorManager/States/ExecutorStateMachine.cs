namespace Flame.ExecutorManager.States;

/// <summary>
/// Where one executor is in its life, as seen by its node. The names follow the server's view of the
/// executor lifecycle (flame.v1 <c>ExecutorState</c>) so that logs on both sides read alike.
/// </summary>
internal enum ExecutorWorkerState
{
    /// <summary>Asked for by the gateway; not registered yet.</summary>
    Void,
    /// <summary>Registered; waiting in BindExecutor for a session.</summary>
    Idle,
    /// <summary>Given a session: starting the service and calling OnSessionEnter.</summary>
    Binding,
    /// <summary>Pulling tasks of its session (LaunchTask, OnTaskInvoke, CompleteTask).</summary>
    Bound,
    /// <summary>Leaving its session: UnbindExecutor, OnSessionLeave, stopping the service.</summary>
    Unbinding,
    /// <summary>Giving its slot back: UnregisterExecutor.</summary>
    Releasing,
    /// <summary>Gone; the worker has ended.</summary>
    Released,
}

/// <summary>
/// The legal moves of an executor worker. Anything else is a bug in the worker, and throws, so that it is
/// found by the tests and not by a confused gateway.
/// </summary>
/// <remarks>
/// Not thread-safe for writers: only the executor's own worker loop moves it. <see cref="State"/> may be read
/// from any thread (the node agent reads it to decide how to release an executor).
/// </remarks>
internal sealed class ExecutorStateMachine
{
    private volatile ExecutorWorkerState _state = ExecutorWorkerState.Void;

    /// <summary>The current state.</summary>
    public ExecutorWorkerState State => _state;

    /// <summary>Whether <paramref name="from"/> → <paramref name="to"/> is a legal move.</summary>
    public static bool IsLegal(ExecutorWorkerState from, ExecutorWorkerState to) => (from, to) switch
    {
        // Registered; or never registered (refused, shut down first) and so released at once.
        (ExecutorWorkerState.Void, ExecutorWorkerState.Idle) => true,
        (ExecutorWorkerState.Void, ExecutorWorkerState.Releasing) => true,
        // BindExecutor gave a session; or no work / released / shutting down.
        (ExecutorWorkerState.Idle, ExecutorWorkerState.Binding) => true,
        (ExecutorWorkerState.Idle, ExecutorWorkerState.Releasing) => true,
        // OnSessionEnter succeeded; or the service did not start / refused the session / a fault.
        (ExecutorWorkerState.Binding, ExecutorWorkerState.Bound) => true,
        (ExecutorWorkerState.Binding, ExecutorWorkerState.Idle) => true,
        // No more tasks, the service died or timed out; or a fault left the binding behind.
        (ExecutorWorkerState.Bound, ExecutorWorkerState.Unbinding) => true,
        (ExecutorWorkerState.Bound, ExecutorWorkerState.Idle) => true,
        // Unbound (cleanly or not): wait for the next session.
        (ExecutorWorkerState.Unbinding, ExecutorWorkerState.Idle) => true,
        (ExecutorWorkerState.Releasing, ExecutorWorkerState.Released) => true,
        _ => false,
    };

    /// <summary>Moves to <paramref name="to"/> and returns the state left.</summary>
    /// <exception cref="InvalidOperationException">The move is not legal.</exception>
    public ExecutorWorkerState MoveTo(ExecutorWorkerState to)
    {
        var from = _state;
        if (!IsLegal(from, to))
            throw new InvalidOperationException($"an executor cannot move from {from} to {to}");
        _state = to;
        return from;
    }

    /// <summary>The wire's name for a worker state.</summary>
    public static V1.ExecutorState ToWire(ExecutorWorkerState state) => state switch
    {
        ExecutorWorkerState.Void => V1.ExecutorState.ExecutorVoid,
        ExecutorWorkerState.Idle => V1.ExecutorState.ExecutorIdle,
        ExecutorWorkerState.Binding => V1.ExecutorState.ExecutorBinding,
        ExecutorWorkerState.Bound => V1.ExecutorState.ExecutorBound,
        ExecutorWorkerState.Unbinding => V1.ExecutorState.ExecutorUnbinding,
        ExecutorWorkerState.Releasing => V1.ExecutorState.ExecutorReleasing,
        ExecutorWorkerState.Released => V1.ExecutorState.ExecutorReleased,
        _ => V1.ExecutorState.ExecutorUnknown,
    };
}
