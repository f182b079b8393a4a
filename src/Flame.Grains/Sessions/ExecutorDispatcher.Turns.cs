namespace Flame.Grains.Sessions;

internal sealed partial class ExecutorDispatcher
{
    private async Task<TaskHandout> NextAsync(string executorId, ExecutorSlot slot)
    {
        // Asking again while holding a task means our answer was lost on the way: give the same task.
        if (slot.Held.Count > 0)
            return TaskHandout.Of(host.Tasks.Get(slot.Held[0].TaskId, host.SessionId, slot.Held[0].Launch));
        if (!host.TryGetTerms(out var terms))
            return TaskHandout.Done;
        if (slot.PreemptedFor is { } taker)
            return Unbind(executorId, slot, $"preempted for session '{taker}' at a task boundary: {slot.PreemptionReason}", SessionEventCodes.ExecutorPreempted);
        if (TryStart(slot) is { } started)
            return TaskHandout.Of(started);

        // Idleness is a duration: on the monotonic clock, so that a wall-clock jump neither releases nor keeps executors.
        var now = MonotonicTime.Ms(clock);
        if (slot.IdleSince == 0)
            slot.IdleSince = now;
        var releaseAt = slot.IdleSince + terms.DelayReleaseMs;
        if (ShouldRelease(terms, now, releaseAt))
            return Unbind(executorId, slot, ReleaseReason(terms), SessionEventCodes.ExecutorUnbound);

        slot.Waiter?.TrySetResult(0); // a newer poll replaces an older one
        var waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        slot.Waiter = waiter;
        if (_waiting.Count > 4 * _executors.Count + 16)
            DropStaleWaiters();
        _waiting.Enqueue(slot);
        var slice = TimeSpan.FromMilliseconds(Math.Max(1, Math.Min(releaseAt - now, (long)execution.LongPollSlice.TotalMilliseconds)));
        if (terms.Closed || _executors.Count <= terms.MinInstances)
            slice = execution.LongPollSlice; // never released for lack of work: just poll again later
        await Task.WhenAny(waiter.Task, Task.Delay(slice, clock));
        if (slot.Waiter == waiter)
            slot.Waiter = null;

        var handed = waiter.Task.IsCompleted ? waiter.Task.Result : 0;
        if (handed != 0)
            return TaskHandout.Of(host.Tasks.Get(handed, host.SessionId, slot.Launch));
        if (!host.TryGetTerms(out terms) || slot.Detached)
            return TaskHandout.Done;
        if (slot.PreemptedFor is { } preemptedFor)
            return Unbind(executorId, slot, $"preempted for session '{preemptedFor}' while idle: {slot.PreemptionReason}", SessionEventCodes.ExecutorPreempted);
        return ShouldRelease(terms, MonotonicTime.Ms(clock), releaseAt) ? Unbind(executorId, slot, ReleaseReason(terms), SessionEventCodes.ExecutorUnbound) : TaskHandout.Wait;
    }

    /// <summary>Records the result of the one task the executor holds, checked: a late or stray result is refused.</summary>
    private void Complete(string executorId, ExecutorSlot slot, TaskResultInfo result)
    {
        if (slot.Held.Count == 0)
            throw FlameException.FailedPrecondition(
                $"executor '{executorId}' holds no task of session '{host.SessionId}'; the completion is refused");
        // Without a window an executor holds one task: the one the result is for.
        var (taskId, launch) = slot.Held[0];
        if (result.TaskId != 0 && result.TaskId != taskId)
            throw FlameException.FailedPrecondition(
                $"executor '{executorId}' reported a result for task {result.TaskId} but runs task {taskId} of session '{host.SessionId}'; the completion is refused");
        if (result.Launch != 0 && result.Launch != launch)
            // The same task, launched again (a failed attempt put it back and this executor got it anew): this
            // result is the earlier attempt's, retried after its answer was lost. Recorded once already.
            throw FlameException.FailedPrecondition(
                $"executor '{executorId}' reported a result for launch {result.Launch} of task {taskId}, which it runs as launch {launch}; the completion is refused");
        slot.Held.RemoveAt(0);
        outcomes.Record(taskId, result);
        Dispatch();
        host.WorkChanged();
    }

    private async Task<TaskHandout> WindowAsync(string executorId, ExecutorSlot slot, TaskExchange exchange)
    {
        var changed = false;
        foreach (var result in exchange.Results)
        {
            // In the order the tasks ran, so normally the first held. Not held: recorded already (sent again after a
            // lost answer) or taken back from the executor; either way there is nothing to record.
            var index = IndexOf(slot, result.Launch, result.TaskId);
            if (index < 0)
                continue;
            var taskId = slot.Held[index].TaskId;
            slot.Held.RemoveAt(index);
            outcomes.Record(taskId, result);
            changed = true;
        }
        // Last first: each goes to the front of the queue, so together they keep their order.
        for (var r = exchange.Returned.Count - 1; r >= 0; r--)
            changed |= TakeBack(slot, exchange.Returned[r], "returned unstarted by its executor");
        if (changed)
        {
            Dispatch();
            host.WorkChanged();
        }

        // What it holds beyond what it knows of was in an answer it never received: hand it again.
        var answer = new List<TaskInfo>();
        for (var i = Math.Clamp(exchange.Holding, 0, slot.Held.Count); i < slot.Held.Count; i++)
            answer.Add(host.Tasks.Get(slot.Held[i].TaskId, host.SessionId, slot.Held[i].Launch));
        if (exchange.Leaving)
        {
            // Leaving: nothing more, no wait; what it still holds never started.
            slot.Leaving = true;
            return TaskHandout.Of(answer);
        }
        if (slot.Held.Count == 0)
        {
            // Holding nothing: the one-task wait, and its answer (a task, ask again, or unbind).
            var next = await NextAsync(executorId, slot);
            if (next.Task is not { } first)
                return next;
            answer.Add(first);
        }
        TopUp(slot, exchange.Window, answer);
        return TaskHandout.Of(answer);
    }

    /// <summary>
    /// Fills an executor's window, up to its share of the pending tasks: a short queue is spread over the executors,
    /// not taken by the first to ask. A preempted executor gets nothing more; it leaves once it holds nothing.
    /// </summary>
    private void TopUp(ExecutorSlot slot, int window, List<TaskInfo> answer)
    {
        if (!host.TryGetTerms(out _) || slot.Detached || slot.PreemptedFor is not null)
            return;
        // An even share of the work not done yet: what is pending and what the executors hold (Running).
        var tasks = host.Tasks;
        var executors = Math.Max(1, _executors.Count);
        var share = Math.Max(1, (tasks.CountOf(TaskState.Pending) + tasks.CountOf(TaskState.Running) + executors - 1) / executors);
        for (var room = Math.Min(window, share) - slot.Held.Count; room > 0 && TryStart(slot) is { } task; room--)
            answer.Add(task);
    }

    /// <summary>Tasks launched that never reached the executor (the gateway's caller hung up): back to the queue, no attempt.</summary>
    private void GiveBack(string executorId, IReadOnlyList<long> launches)
    {
        if (!host.TryGetTerms(out _) || !_executors.TryGetValue(executorId, out var slot))
            return;
        var changed = false;
        for (var r = launches.Count - 1; r >= 0; r--)
            changed |= TakeBack(slot, launches[r], "returned: the executor went away before it received the task");
        if (changed)
            Dispatch();
    }

    private bool TakeBack(ExecutorSlot slot, long launch, string message)
    {
        var index = IndexOf(slot, launch, 0);
        if (index < 0)
            return false;
        var taskId = slot.Held[index].TaskId;
        slot.Held.RemoveAt(index);
        outcomes.Return(taskId, message);
        return true;
    }

    private static int IndexOf(ExecutorSlot slot, long launch, long taskId)
    {
        for (var i = 0; i < slot.Held.Count; i++)
            if (slot.Held[i].Launch == launch && (taskId == 0 || slot.Held[i].TaskId == taskId))
                return i;
        return -1;
    }

    private TaskInfo? TryStart(ExecutorSlot slot)
    {
        var tasks = host.Tasks;
        if (!tasks.TryStartNext(Now, null, out var taskId))
            return null;
        slot.Launch++;
        slot.Held.Add(new HeldTask(taskId, slot.Launch));
        slot.IdleSince = 0;
        slot.Unbinding = false; // told to leave, then given work after all: a later leave is recorded again
        host.TaskChanged(taskId);
        return tasks.Get(taskId, host.SessionId, slot.Launch);
    }

    private void DropStaleWaiters()
    {
        var live = _waiting.Where(s => s.Waiter is not null && !s.Detached).Distinct().ToList();
        _waiting.Clear();
        foreach (var slot in live)
            _waiting.Enqueue(slot);
    }

    private ExecutorSlot Attached(string executorId)
    {
        if (_executors.TryGetValue(executorId, out var slot))
            return slot;
        // An executor bound before the session was restored (the gateway checked its binding) keeps serving it; the
        // task it ran then was requeued at the restore, so it starts with none and its late completion is refused.
        if (_restored && host.TryGetTerms(out var terms) && !terms.Closed && !(_detached?.Contains(executorId) ?? false))
        {
            _executors[executorId] = slot = new ExecutorSlot();
            host.ExecutorsChanged();
            return slot;
        }
        throw FlameException.FailedPrecondition($"executor '{executorId}' is not bound to session '{host.SessionId}'");
    }

    /// <summary>Tells the executor to leave (the turn answers Done), recording why on the session once.</summary>
    private TaskHandout Unbind(string executorId, ExecutorSlot slot, string reason, int code)
    {
        if (!slot.Unbinding)
        {
            slot.Unbinding = true;
            host.Unbound(executorId, reason, code);
        }
        return TaskHandout.Done;
    }

    private bool ShouldRelease(DispatchTerms terms, long now, long releaseAt)
    {
        if (host.Tasks.CountOf(TaskState.Pending) > 0)
            return false;
        if (terms.Closed)
            return true; // nothing will ever come
        // min_instances executors stay while the session is open, work or not.
        return _executors.Count > terms.MinInstances && now >= releaseAt;
    }

    private static string ReleaseReason(DispatchTerms terms) =>
        terms.Closed
            ? "the session is closed and has no pending task"
            : $"no pending task for delay_release ({terms.DelayReleaseMs / 1000}s)";

    /// <summary>An executor bound to the session: the tasks it holds and its pending long-poll, if any.</summary>
    private sealed class ExecutorSlot
    {
        /// <summary>
        /// The tasks handed to the executor and not completed, in the order handed: the first is the one its service
        /// runs. One at most, unless it asks with a window.
        /// </summary>
        public List<HeldTask> Held { get; } = [];
        /// <summary>How many tasks this executor was given (the last one's launch number): see <see cref="TaskInfo.Launch"/>.</summary>
        public long Launch { get; set; }
        public long IdleSince { get; set; }
        public TaskCompletionSource<long>? Waiter { get; set; }
        public bool Detached { get; set; }
        public string? PreemptedFor { get; set; }
        public string? PreemptionReason { get; set; }
        public bool Unbinding { get; set; }
        /// <summary>It said it runs no more tasks (a window of 0): none of those it holds started.</summary>
        public bool Leaving { get; set; }
    }

    private readonly record struct HeldTask(long TaskId, long Launch);
}
