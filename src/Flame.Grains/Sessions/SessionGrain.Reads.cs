namespace Flame.Grains.Sessions;

public sealed partial class SessionGrain
{
    // ---- Reads and watchers ----------------------------------------------------------------------

    public Task WatchSessionAsync(ISessionWatcher watcher)
    {
        Existing();
        _watchers.WatchSession(watcher);
        return Task.CompletedTask;
    }

    public Task UnwatchSessionAsync(ISessionWatcher watcher)
    {
        _watchers.UnwatchSession(watcher);
        return Task.CompletedTask;
    }

    public Task<bool> IsWatchingSessionAsync(ISessionWatcher watcher) => Task.FromResult(_watchers.IsWatchingSession(watcher));

    public async Task<TaskInfo> GetTaskAsync(long taskId)
    {
        ExistingTask(taskId);
        var inStore = _tasks.PayloadsInStore(taskId);
        if (!inStore)
            return await _journal.DurableTaskAsync(taskId, _tasks.Get(taskId, Id));
        return await WithStoredPayloadsAsync(await _journal.DurableTaskAsync(taskId, _tasks.Get(taskId, Id)));
    }

    public async Task<TaskPage> ListTasksAsync(long afterId, int max)
    {
        Existing();
        var page = _tasks.Page(afterId, Math.Clamp(max, 1, 10_000), Id);
        var inStore = page.Tasks.Where(t => _tasks.PayloadsInStore(t.Id)).Select(t => t.Id).ToHashSet();
        await _journal.Durable();
        if (inStore.Count == 0)
            return page;
        // One read per task: the store's range read has no upper bound, and PostgreSQL would send the rest of the
        // session's rows with every page. The gateway's ListTask streams from the store instead of calling this.
        var tasks = page.Tasks.ToList();
        for (var i = 0; i < tasks.Count; i++)
            if (inStore.Contains(tasks[i].Id))
                tasks[i] = await WithStoredPayloadsAsync(tasks[i]);
        return page with { Tasks = tasks };
    }

    public async Task<TaskInfo> WatchTaskAsync(long taskId, ITaskWatcher watcher)
    {
        ExistingTask(taskId);
        var task = _tasks.Get(taskId, Id);
        if (_tasks.PayloadsInStore(taskId))
            return await WithStoredPayloadsAsync(await _journal.DurableTaskAsync(taskId, task));
        if (!task.State.IsTerminal())
            _watchers.WatchTask(taskId, watcher);
        return await _journal.DurableTaskAsync(taskId, task);
    }

    public Task UnwatchTaskAsync(long taskId, ITaskWatcher watcher)
    {
        _watchers.UnwatchTask(taskId, watcher);
        return Task.CompletedTask;
    }

    /// <summary>A finished task whose large payloads left memory (<see cref="TaskTable.DropPayloads"/>), with them read back.</summary>
    private async Task<TaskInfo> WithStoredPayloadsAsync(TaskInfo task)
    {
        // Missing only when the session is being deleted meanwhile (these reads interleave with DeleteAsync).
        var stored = await _store.LoadTaskAsync(Id, task.Id)
            ?? throw FlameException.NotFound($"task {task.Id} of session '{Id}' is no longer in the task store: the session was deleted");
        return task with
        {
            Input = task.Input ?? (stored.Input is { Length: > 0 } input ? input : null),
            Output = task.Output ?? stored.Output,
        };
    }

    private SessionInfo View()
    {
        var s = _session!;
        return new SessionInfo
        {
            Id = Id,
            Spec = s.Spec,
            Status = new SessionStatus
            {
                State = s.State,
                CreationTime = s.CreationTime,
                CompletionTime = s.CompletionTime,
                Pending = _tasks.CountOf(TaskState.Pending),
                Running = _tasks.CountOf(TaskState.Running),
                Succeed = _tasks.CountOf(TaskState.Succeed),
                Failed = _tasks.CountOf(TaskState.Failed),
                Cancelled = _tasks.CountOf(TaskState.Cancelled),
                Events = s.Events.ToArray(),
            },
        };
    }

    private SessionData Existing()
    {
        if (_session is null)
        {
            // Don't keep activations of ids that were never created (unless one is being created right now).
            if (!_creating)
                DeactivateOnIdle();
            throw NotFound();
        }
        return _session;
    }

    private void ExistingTask(long taskId)
    {
        Existing();
        if (!_tasks.Contains(taskId))
            throw FlameException.NotFound($"task {taskId} not found in session '{Id}'");
    }

    private FlameException NotFound() => FlameException.NotFound($"session '{Id}' not found");
}
