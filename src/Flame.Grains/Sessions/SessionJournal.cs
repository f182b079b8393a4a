using Flame.Storage;
using Microsoft.Extensions.Logging;

namespace Flame.Grains.Sessions;

/// <summary>What the journal asks of its session while it flushes (the session grain implements it).</summary>
internal interface ISessionJournalTarget
{
    /// <summary>The session's id, for the store and the log.</summary>
    string SessionId { get; }

    /// <summary>How many tasks the session has: ids up to it are inserted once a flush has written them.</summary>
    long TaskCount { get; }

    /// <summary>The session's own row as it is now; null once the session is gone.</summary>
    StoredSession? SessionRow();

    /// <summary>The task's row (with its input when <paramref name="withInput"/>); null when there is nothing to write.</summary>
    StoredTask? TaskRow(long taskId, bool withInput);

    /// <summary>The task as its watchers are to see it; null when it is not to be published again.</summary>
    TaskInfo? PublishedForm(long taskId);

    /// <summary>Writes one flush: the session's row (if changed) and its tasks' rows, in slices.</summary>
    Task WriteAsync(StoredSession? session, List<StoredTask> tasks);

    /// <summary>A flush is durable: tell the watchers of <paramref name="published"/>; <paramref name="written"/> are in the store.</summary>
    void Flushed(IReadOnlyList<StoredTask> written, List<TaskInfo> published);
}

/// <summary>
/// A session's write journal: what changed since the last flush (tasks, the session's own row), who waits for it to
/// be durable, and what to publish once it is. One flush at a time writes what is dirty; changes made while a flush is
/// in the store go in the next one. A failed flush fails its waiters (Unavailable) and keeps its changes for the next.
/// </summary>
/// <remarks>
/// Not thread-safe: it runs on its grain's scheduler (the flush's continuations too), so each capture is one
/// consistent snapshot of the session.
/// </remarks>
internal sealed partial class SessionJournal(ISessionJournalTarget target, TimeProvider clock, ILogger logger)
{
    /// <summary>How long a failed flush waits before it tries again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private HashSet<long> _dirty = [];
    private readonly HashSet<long> _toPublish = [];
    private bool _sessionDirty;
    private long _insertedUpTo;
    private bool _flushing;
    // Bumped by Forget: a flush that was in the store meanwhile neither re-marks nor publishes its changes.
    private int _generation;
    private TaskCompletionSource _nextFlush = NewFlush();
    // The tasks of the flush in the store (_currentFlush), for DurableTask.
    private HashSet<long> _inFlush = [];
    private Task _currentFlush = Task.CompletedTask;

    /// <summary>
    /// No change waits for a flush: every one is written, or in the flush in the store, which publishes its own after.
    /// </summary>
    public bool AllPublished => _dirty.Count == 0 && _toPublish.Count == 0 && !_sessionDirty;

    /// <summary>The tasks restored from the store: ids up to <paramref name="taskCount"/> exist there already.</summary>
    public void Restored(long taskCount) => _insertedUpTo = taskCount;

    /// <summary>Marks a task for the next flush; <paramref name="publish"/>: its watchers hear of it after the flush.</summary>
    public void TaskChanged(long taskId, bool publish)
    {
        _dirty.Add(taskId);
        if (publish)
            _toPublish.Add(taskId);
        StartFlush();
    }

    /// <summary>Marks the session's own row (state, events) for the next flush.</summary>
    public void SessionChanged()
    {
        _sessionDirty = true;
        StartFlush();
    }

    /// <summary>Completes when every change made so far is durable; fails (Unavailable) if the flush holding it fails.</summary>
    public Task Durable() => _dirty.Count > 0 || _sessionDirty ? _nextFlush.Task : _currentFlush;

    /// <summary>
    /// Completes when task <paramref name="taskId"/>, as it is now, is durable, without waiting for other tasks'
    /// changes: a read of one task shows only what the store holds, and a busy session is dirty all the time.
    /// </summary>
    public Task DurableTask(long taskId) =>
        _dirty.Contains(taskId) ? _nextFlush.Task : _inFlush.Contains(taskId) ? _currentFlush : Task.CompletedTask;

    /// <summary><paramref name="reply"/>, once task <paramref name="taskId"/> as it is now is durable (<see cref="DurableTask"/>).</summary>
    public Task<T> DurableTaskAsync<T>(long taskId, T reply)
    {
        var durable = DurableTask(taskId);
        return durable.IsCompletedSuccessfully ? Task.FromResult(reply) : Then(durable, reply);

        static async Task<T> Then(Task durable, T reply)
        {
            await durable;
            return reply;
        }
    }

    /// <summary><paramref name="reply"/>, once every change made so far is durable.</summary>
    public async Task<T> DurableAsync<T>(T reply)
    {
        await Durable();
        return reply;
    }

    /// <summary>The session is deleted: nothing not flushed yet is written, and a flush in the store is not followed up.</summary>
    public void Forget()
    {
        _dirty.Clear();
        _toPublish.Clear();
        _sessionDirty = false;
        _generation++;
    }

    private static TaskCompletionSource NewFlush() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void StartFlush()
    {
        if (_flushing)
            return;
        _flushing = true;
        _ = FlushAsync();
    }

    private async Task FlushAsync()
    {
        try
        {
            // Let the turn that started us finish: all of its changes go in this flush.
            await Task.Yield();
            while (_dirty.Count > 0 || _sessionDirty)
            {
                var flush = _nextFlush;
                _nextFlush = NewFlush();
                _currentFlush = flush.Task;
                var insertedBefore = _insertedUpTo;
                var generation = _generation;
                var (session, tasks, published) = Capture();
                try
                {
                    await target.WriteAsync(session, tasks);
                }
                catch (Exception ex)
                {
                    // Not durable: whoever waits hears so; the changes stay marked and go with the next flush.
                    LogFlushFailed(ex, target.SessionId, tasks.Count);
                    if (generation == _generation)
                        Remark(session, tasks, published, insertedBefore);
                    flush.TrySetException(FlameException.Unavailable(
                        $"session '{target.SessionId}': the task store could not write the change: {ex.Message}"));
                    await Task.Delay(RetryDelay, clock);
                    continue;
                }
                flush.TrySetResult();
                if (generation == _generation)
                    target.Flushed(tasks, published);
            }
        }
        finally
        {
            _flushing = false;
        }
    }

    private void Remark(StoredSession? session, List<StoredTask> tasks, List<TaskInfo> published, long insertedBefore)
    {
        foreach (var task in tasks)
            _dirty.Add(task.Id);
        foreach (var task in published)
            _toPublish.Add(task.Id);
        _sessionDirty |= session is not null;
        _insertedUpTo = Math.Min(_insertedUpTo, insertedBefore);
    }

    private (StoredSession? Session, List<StoredTask> Tasks, List<TaskInfo> Published) Capture()
    {
        var session = _sessionDirty ? target.SessionRow() : null;
        _sessionDirty = false;

        var tasks = new List<StoredTask>(_dirty.Count);
        foreach (var taskId in _dirty)
            if (target.TaskRow(taskId, withInput: taskId > _insertedUpTo) is { } row)
                tasks.Add(row);
        tasks.Sort((a, b) => a.Id.CompareTo(b.Id));
        // Swapped, not copied: the set of the flush before is done with (its flush completed before this capture).
        (_inFlush, _dirty) = (_dirty, _inFlush);
        _dirty.Clear();
        _insertedUpTo = target.TaskCount;

        var published = new List<TaskInfo>(_toPublish.Count);
        foreach (var taskId in _toPublish)
            if (target.PublishedForm(taskId) is { } task)
                published.Add(task);
        _toPublish.Clear();
        return (session, tasks, published);
    }
}
