using Flame.Grains.Sessions;

namespace Flame.Grains.Tests.Sessions;

public sealed class WatcherFanOutTests
{
    private sealed class TaskWatcher : ITaskWatcher
    {
        public readonly List<(long Id, TaskState State)> Seen = [];

        public Task OnTaskChangedAsync(TaskInfo task)
        {
            Seen.Add((task.Id, task.State));
            return Task.CompletedTask;
        }
    }

    private sealed class SessionWatcher : ISessionWatcher
    {
        public readonly List<(long[] Ids, bool Done, long Batch)> Batches = [];

        public Task OnTasksFinishedAsync(IReadOnlyList<TaskInfo> tasks, bool sessionDone, long batch)
        {
            Batches.Add(([.. tasks.Select(t => t.Id)], sessionDone, batch));
            return Task.CompletedTask;
        }
    }

    /// <summary>A one-shot timer the test fires by hand.</summary>
    private sealed class Timers
    {
        public readonly List<Func<Task>> Started = [];

        public IDisposable Start(Func<Task> callback, TimeSpan due)
        {
            Started.Add(callback);
            return new Stop(() => Started.Remove(callback));
        }

        private sealed class Stop(Action stop) : IDisposable
        {
            public void Dispose() => stop();
        }
    }

    private static TaskInfo Info(long id, TaskState state) => new() { Id = id, SessionId = "s", State = state };

    [Fact]
    public void ATasksWatchers_HearOfEachChange_AndAreForgottenWhenItFinishes()
    {
        var done = false;
        var fanOut = new WatcherFanOut(() => done, new Timers().Start);
        var watcher = new TaskWatcher();
        fanOut.WatchTask(1, watcher);
        fanOut.WatchTask(1, watcher); // twice: told once
        Assert.True(fanOut.Any);

        fanOut.Publish([Info(1, TaskState.Running), Info(2, TaskState.Running)]);
        fanOut.Publish([Info(1, TaskState.Succeed)]);
        fanOut.Publish([Info(1, TaskState.Succeed)]);
        Assert.Equal([(1L, TaskState.Running), (1L, TaskState.Succeed)], watcher.Seen);
        Assert.False(fanOut.Any);
    }

    [Fact]
    public void SessionWatchers_GetFinishedTasksInNumberedBatches_AndTheLastBatchSaysDone()
    {
        var done = false;
        var timers = new Timers();
        var fanOut = new WatcherFanOut(() => done, timers.Start);
        var watcher = new SessionWatcher();
        fanOut.WatchSession(watcher);

        fanOut.Publish([Info(1, TaskState.Running), Info(1, TaskState.Succeed), Info(2, TaskState.Failed)]);
        Assert.Empty(watcher.Batches); // waits for the timer, for more
        timers.Started.Single()();
        Assert.Empty(timers.Started);

        done = true;
        fanOut.Publish([Info(3, TaskState.Cancelled)]);
        Assert.Equal(["1,2 false 1", "3 true 2"], watcher.Batches.Select(b => $"{string.Join(",", b.Ids)} {b.Done.ToString().ToLowerInvariant()} {b.Batch}"));
        Assert.False(fanOut.Any); // done: forgotten
    }

    [Fact]
    public void AFullBatch_LeavesAtOnce_WithoutWaitingForTheTimer()
    {
        var fanOut = new WatcherFanOut(() => false, new Timers().Start);
        var watcher = new SessionWatcher();
        fanOut.WatchSession(watcher);
        fanOut.Publish([.. Enumerable.Range(1, WatcherFanOut.FinishedBatchSize).Select(i => Info(i, TaskState.Succeed))]);
        Assert.Equal(WatcherFanOut.FinishedBatchSize, Assert.Single(watcher.Batches).Ids.Length);
    }

    [Fact]
    public void AWatcherOfASessionThatIsDone_IsToldSoAtOnce()
    {
        var fanOut = new WatcherFanOut(() => true, new Timers().Start);
        var watcher = new SessionWatcher();
        fanOut.WatchSession(watcher);
        var (ids, done, batch) = Assert.Single(watcher.Batches);
        Assert.Equal((0, true, 1L), (ids.Length, done, batch));
    }
}
