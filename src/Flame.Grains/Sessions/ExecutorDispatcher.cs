using Flame.Grains.Hosting;

namespace Flame.Grains.Sessions;

/// <summary>What the dispatcher needs to know of its session now.</summary>
/// <param name="Closed">The session is closed: no task will come, idle executors leave at once.</param>
/// <param name="MinInstances">Executors that stay while the session is open, work or not.</param>
/// <param name="DelayReleaseMs">How long an executor waits idle for work before it is released.</param>
internal readonly record struct DispatchTerms(bool Closed, uint MinInstances, long DelayReleaseMs);

/// <summary>What the dispatcher asks of its session (the session grain implements it).</summary>
internal interface IDispatchHost
{
    /// <summary>The session's id, for the tasks handed out and the messages.</summary>
    string SessionId { get; }

    /// <summary>The session's task table (a new one after a delete).</summary>
    TaskTable Tasks { get; }

    /// <summary>The session's terms; false when the session no longer exists.</summary>
    bool TryGetTerms(out DispatchTerms terms);

    /// <summary>A task changed (it is written, then published).</summary>
    void TaskChanged(long taskId);

    /// <summary>The work changed (results, returns): the scheduler hears of it when it matters.</summary>
    void WorkChanged();

    /// <summary>Executors came or went: the scheduler hears of it now; a new one is watched for loss.</summary>
    void ExecutorsChanged();

    /// <summary>Records on the session why an executor was told to leave (once per leave).</summary>
    void Unbound(string executorId, string reason, int code);
}

/// <summary>
/// A session's executors: which tasks each holds, the long-polls of the idle ones (oldest served first), task windows,
/// release after delay_release, preemption at a task boundary, and detach (a running task loses an attempt, the
/// unstarted ones go back to the front of the queue). Everything an executor does goes through one turn,
/// <see cref="ExchangeAsync"/>. Time is <see cref="TimeProvider"/>'s.
/// </summary>
/// <remarks>Not thread-safe: it runs on its grain's scheduler, waits included.</remarks>
internal sealed partial class ExecutorDispatcher(IDispatchHost host, TaskOutcomes outcomes, FlameExecutionOptions execution, TimeProvider clock)
{
    private readonly Dictionary<string, ExecutorSlot> _executors = new(StringComparer.Ordinal);
    private readonly Queue<ExecutorSlot> _waiting = new();
    // Restored from the store: executors bound before the restart come back on their own (see Attached).
    private bool _restored;
    private HashSet<string>? _detached;

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>How many executors are attached.</summary>
    public int Count => _executors.Count;

    /// <summary>The attached executors' ids (a copy).</summary>
    public List<string> ExecutorIds() => [.. _executors.Keys];

    /// <summary>Whether <paramref name="executorId"/> is attached.</summary>
    public bool IsAttached(string executorId) => _executors.ContainsKey(executorId);

    /// <summary>The session was restored from the store: executors bound before it may come back unannounced.</summary>
    public void Restored() => _restored = true;

    /// <summary>An executor entered the session and will ask for tasks.</summary>
    public void Attach(string executorId) => _executors.TryAdd(executorId, new ExecutorSlot());

    /// <summary>
    /// Executors left or were lost: the task each ran loses an attempt; those of their windows that never started go
    /// back to the front of the queue. All are detached first, so that no task goes to another of them.
    /// </summary>
    public void Detach(IReadOnlyList<string> executorIds, string reason)
    {
        var running = new List<long>();
        var unstarted = new List<long>();
        foreach (var executorId in executorIds)
        {
            if (_restored)
                (_detached ??= new HashSet<string>(StringComparer.Ordinal)).Add(executorId);
            if (!_executors.Remove(executorId, out var slot))
                continue;
            slot.Detached = true;
            slot.Waiter?.TrySetResult(0);
            // The first task it holds is the one its service ran (unless it said it runs no more); the others (its
            // window) never started.
            for (var i = 0; i < slot.Held.Count; i++)
                (i == 0 && !slot.Leaving ? running : unstarted).Add(slot.Held[i].TaskId);
            slot.Held.Clear();
        }
        foreach (var taskId in running)
            outcomes.FailAttempt(taskId, reason);
        for (var i = unstarted.Count - 1; i >= 0; i--)
            outcomes.Return(unstarted[i], $"returned unstarted: {reason}");
        Dispatch();
    }

    /// <summary>
    /// The scheduler takes the executor back: it leaves at its next task boundary (now if idle; when its running task
    /// completes otherwise), never interrupting a task.
    /// </summary>
    public void Preempt(string executorId, string forSession, string reason)
    {
        if (!_executors.TryGetValue(executorId, out var slot) || slot.PreemptedFor is not null)
            return;
        slot.PreemptedFor = forSession;
        slot.PreemptionReason = reason;
        if (slot.Held.Count == 0)
            slot.Waiter?.TrySetResult(0);
    }

    /// <summary>Ends every long-poll: nothing more will come (the session closed), idle executors should leave now.</summary>
    public void WakeAll()
    {
        while (_waiting.TryDequeue(out var slot))
            slot.Waiter?.TrySetResult(0);
    }

    /// <summary>The session is deleted: every executor is forgotten.</summary>
    public void Clear()
    {
        _executors.Clear();
        _waiting.Clear();
    }

    /// <summary>Hands pending tasks to executors waiting in a long-poll, oldest waiter first.</summary>
    public void Dispatch()
    {
        var tasks = host.Tasks;
        while (_waiting.Count > 0 && tasks.CountOf(TaskState.Pending) > 0)
        {
            var slot = _waiting.Dequeue();
            if (slot.Waiter is not { } waiter || slot.Detached || slot.Held.Count != 0)
                continue; // a stale entry: the poll ended or was replaced
            if (TryStart(slot) is not { } task)
                return;
            slot.Waiter = null;
            waiter.TrySetResult(task.Id);
        }
    }

    /// <summary>
    /// One turn of an executor (see <see cref="TaskExchangeKind"/>). FailedPrecondition when the executor is not
    /// attached (or a checked result is for a task it does not hold); the session must exist.
    /// </summary>
    public Task<TaskHandout> ExchangeAsync(string executorId, TaskExchange exchange)
    {
        if (exchange.Kind == TaskExchangeKind.GiveBack)
        {
            GiveBack(executorId, exchange.Returned);
            return Task.FromResult(TaskHandout.None);
        }
        var slot = Attached(executorId);
        switch (exchange.Kind)
        {
            case TaskExchangeKind.Window:
                return WindowAsync(executorId, slot, exchange);
            case TaskExchangeKind.Complete:
                Complete(executorId, slot, exchange.Result ?? throw FlameException.InvalidArgument("a completion needs a result"));
                return Task.FromResult(TaskHandout.None);
            default:
                if (exchange.Result is { } result)
                    Complete(executorId, slot, result);
                return NextAsync(executorId, slot);
        }
    }
}
