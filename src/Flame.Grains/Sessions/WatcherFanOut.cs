namespace Flame.Grains.Sessions;

/// <summary>
/// A session's watchers: each task's (told of every change) and the session's (told of finished tasks in numbered
/// batches, with a last batch that says the session is done). Told only of durable changes: the journal calls
/// <see cref="Publish"/> after each flush.
/// </summary>
/// <param name="sessionDone">
/// True when no task of the session will change again and every change is published: the session watchers' last batch.
/// </param>
/// <param name="startTimer">Starts a one-shot timer on the session's scheduler (a grain timer).</param>
internal sealed class WatcherFanOut(Func<bool> sessionDone, Func<Func<Task>, TimeSpan, IDisposable> startTimer)
{
    /// <summary>Finished tasks per session-watcher batch.</summary>
    public const int FinishedBatchSize = 512;

    /// <summary>How long a batch that is not full waits for more.</summary>
    public static readonly TimeSpan BatchDelay = TimeSpan.FromMilliseconds(2);

    private readonly Dictionary<long, List<ITaskWatcher>> _taskWatchers = [];
    private readonly List<ISessionWatcher> _sessionWatchers = [];
    // Batches sent to each session watcher: one-way calls may arrive out of order, so each carries its number.
    private readonly Dictionary<ISessionWatcher, long> _batchesSent = [];
    private List<TaskInfo>? _finished;
    private IDisposable? _batchTimer;

    /// <summary>Someone watches: changes are to be published.</summary>
    public bool Any => _taskWatchers.Count > 0 || _sessionWatchers.Count > 0;

    /// <summary>The tasks that have watchers (a copy).</summary>
    public List<long> WatchedTasks() => [.. _taskWatchers.Keys];

    /// <summary>Tells <paramref name="watcher"/> of each later change of the task, until it is terminal.</summary>
    public void WatchTask(long taskId, ITaskWatcher watcher)
    {
        if (!_taskWatchers.TryGetValue(taskId, out var list))
            _taskWatchers[taskId] = list = new List<ITaskWatcher>(1);
        if (!list.Contains(watcher))
            list.Add(watcher);
    }

    /// <summary>Stops <see cref="WatchTask"/>.</summary>
    public void UnwatchTask(long taskId, ITaskWatcher watcher)
    {
        if (_taskWatchers.TryGetValue(taskId, out var list) && list.Remove(watcher) && list.Count == 0)
            _taskWatchers.Remove(taskId);
    }

    /// <summary>Tells <paramref name="watcher"/> of finished tasks from now on; at once that the session is done, if it is.</summary>
    public void WatchSession(ISessionWatcher watcher)
    {
        if (!_sessionWatchers.Contains(watcher))
        {
            _sessionWatchers.Add(watcher);
            _batchesSent[watcher] = 0;
        }
        if (sessionDone())
            _ = watcher.OnTasksFinishedAsync([], sessionDone: true, batch: ++_batchesSent[watcher]);
    }

    /// <summary>True while <paramref name="watcher"/> is told of finished tasks (its last batch not yet sent).</summary>
    public bool IsWatchingSession(ISessionWatcher watcher) => _batchesSent.ContainsKey(watcher);

    /// <summary>Stops <see cref="WatchSession"/>.</summary>
    public void UnwatchSession(ISessionWatcher watcher)
    {
        _sessionWatchers.Remove(watcher);
        _batchesSent.Remove(watcher);
    }

    /// <summary>Tells watchers of changes that are now durable: each task's watchers, and the session's of the finished ones.</summary>
    public void Publish(List<TaskInfo> tasks)
    {
        foreach (var task in tasks)
        {
            if (_taskWatchers.TryGetValue(task.Id, out var list))
            {
                foreach (var watcher in list)
                    _ = watcher.OnTaskChangedAsync(task); // one-way: returns at once
                if (task.State.IsTerminal())
                    _taskWatchers.Remove(task.Id);
            }
            if (_sessionWatchers.Count > 0 && task.State.IsTerminal())
                Finished(task);
        }
        if (_sessionWatchers.Count > 0 && sessionDone())
            SendFinished(); // the last ones: no need to wait for the timer
    }

    /// <summary>The session is deleted: what is batched goes out (not as the last batch), and every watcher is forgotten.</summary>
    public void Clear()
    {
        _taskWatchers.Clear();
        SendFinished();
        _sessionWatchers.Clear();
        _batchesSent.Clear();
    }

    /// <summary>
    /// Queues a finished task for the session watchers. Batches leave when full or after a couple of
    /// milliseconds, so that thousands of completions per second cost a few calls, not thousands.
    /// </summary>
    private void Finished(TaskInfo task)
    {
        (_finished ??= new List<TaskInfo>(FinishedBatchSize)).Add(task);
        if (_finished.Count >= FinishedBatchSize)
            SendFinished();
        else
            _batchTimer ??= startTimer(() =>
            {
                SendFinished();
                return Task.CompletedTask;
            }, BatchDelay);
    }

    private void SendFinished()
    {
        _batchTimer?.Dispose();
        _batchTimer = null;
        var batch = _finished ?? [];
        _finished = null;
        // Done only when nothing is left to send: a bulk change sends full batches before its end, and changes not
        // yet durable are published later.
        var done = sessionDone() && batch.Count < FinishedBatchSize;
        if (batch.Count == 0 && !done)
            return;
        foreach (var watcher in _sessionWatchers)
            _ = watcher.OnTasksFinishedAsync(batch, done, ++_batchesSent[watcher]);
        if (done)
        {
            _sessionWatchers.Clear();
            _batchesSent.Clear();
        }
    }
}
