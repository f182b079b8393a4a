using Flame.Grains.Sessions;
using Flame.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Flame.Grains.Tests.Sessions;

public sealed class SessionJournalTests
{
    /// <summary>A session of task ids 1..TaskCount whose writes the test completes (or fails) one by one.</summary>
    private sealed class FakeSession : ISessionJournalTarget
    {
        public readonly Queue<(StoredSession? Session, List<StoredTask> Tasks, TaskCompletionSource Done)> Writes = new();
        public readonly List<List<long>> Told = [];
        public readonly HashSet<long> InStoreOnly = [];
        private TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int InFlight;
        public int MostInFlight;

        public string SessionId => "s";
        public long TaskCount { get; set; }
        public StoredSession? SessionRow() => new() { Id = "s", Application = "app", Open = true, CreationTime = 0, Json = "{}" };
        public StoredTask? TaskRow(long taskId, bool withInput) =>
            InStoreOnly.Contains(taskId) ? null : new StoredTask { Id = taskId, State = 0, CreationTime = 0, Input = withInput ? [1] : null };
        public TaskInfo? PublishedForm(long taskId) => new() { Id = taskId, SessionId = "s" };

        public Task WriteAsync(StoredSession? session, List<StoredTask> tasks)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Writes.Enqueue((session, tasks, done));
            MostInFlight = Math.Max(MostInFlight, ++InFlight);
            _written.TrySetResult();
            return done.Task.ContinueWith(t => { InFlight--; return t; }, TaskScheduler.Current).Unwrap();
        }

        public void Flushed(IReadOnlyList<StoredTask> written, List<TaskInfo> published) => Told.Add([.. published.Select(t => t.Id)]);

        /// <summary>The next write the journal makes.</summary>
        public async Task<(StoredSession? Session, List<StoredTask> Tasks, TaskCompletionSource Done)> NextWriteAsync()
        {
            while (Writes.Count == 0)
            {
                _written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (Writes.Count == 0)
                    await _written.Task.WaitAsync(OneScheduler.Timeout);
            }
            return Writes.Dequeue();
        }
    }

    private static (SessionJournal Journal, FakeSession Session, FakeTimeProvider Clock) New()
    {
        var session = new FakeSession { TaskCount = 3 };
        var clock = new FakeTimeProvider();
        return (new SessionJournal(session, clock, NullLogger.Instance), session, clock);
    }

    [Fact]
    public Task ChangesMadeInOneTurn_GoInOneFlush_InIdOrder() => OneScheduler.Run(async () =>
    {
        var (journal, session, _) = New();
        journal.TaskChanged(3, publish: false);
        journal.TaskChanged(1, publish: false);
        journal.SessionChanged();
        var durable = journal.Durable();

        var write = await session.NextWriteAsync();
        Assert.NotNull(write.Session);
        Assert.Equal([1L, 3L], write.Tasks.Select(t => t.Id));
        Assert.False(durable.IsCompleted);
        write.Done.SetResult();
        await durable.WaitAsync(OneScheduler.Timeout);
        Assert.True(journal.AllPublished);
    });

    [Fact]
    public Task OneFlushAtATime_IsInTheStore_AndChangesMadeMeanwhileGoInTheNext() => OneScheduler.Run(async () =>
    {
        var (journal, session, _) = New();
        journal.TaskChanged(1, publish: false);
        var first = await session.NextWriteAsync();
        journal.TaskChanged(2, publish: false);
        var second = journal.Durable();
        await Task.Yield();
        Assert.Empty(session.Writes); // the second waits for the first

        first.Done.SetResult();
        var next = await session.NextWriteAsync();
        Assert.Equal([2L], next.Tasks.Select(t => t.Id));
        Assert.False(second.IsCompleted);
        next.Done.SetResult();
        await second.WaitAsync(OneScheduler.Timeout);
        Assert.Equal(1, session.MostInFlight);
    });

    [Fact]
    public Task AReadOfOneTask_WaitsForItsOwnChangeOnly_NotForOtherTasksOfABusySession() => OneScheduler.Run(async () =>
    {
        var (journal, session, _) = New();
        journal.TaskChanged(1, publish: false);
        var first = await session.NextWriteAsync();
        journal.TaskChanged(2, publish: false);

        // Task 3 changed in no flush: it is durable as it is. Task 1 is in the store's flush, task 2 waits for the next.
        Assert.True(journal.DurableTask(3).IsCompletedSuccessfully);
        var one = journal.DurableTask(1);
        var two = journal.DurableTask(2);
        Assert.False(one.IsCompleted);
        Assert.False(journal.Durable().IsCompleted);

        first.Done.SetResult();
        await one.WaitAsync(OneScheduler.Timeout);
        Assert.True(journal.DurableTask(1).IsCompletedSuccessfully);
        Assert.False(two.IsCompleted);
        (await session.NextWriteAsync()).Done.SetResult();
        await two.WaitAsync(OneScheduler.Timeout);
    });

    [Fact]
    public Task Watchers_AreToldOfAChange_OnlyAfterTheFlushThatWritesItIsDurable() => OneScheduler.Run(async () =>
    {
        var (journal, session, _) = New();
        journal.TaskChanged(1, publish: true);
        journal.TaskChanged(2, publish: false);
        var write = await session.NextWriteAsync();
        Assert.Empty(session.Told);

        write.Done.SetResult();
        await journal.Durable().WaitAsync(OneScheduler.Timeout);
        await Task.Yield();
        Assert.Equal([1L], Assert.Single(session.Told));
    });

    [Fact]
    public Task AFailedFlush_FailsItsWaitersWithUnavailable_AndItsChangesGoWithTheNextAfterADelay() => OneScheduler.Run(async () =>
    {
        var (journal, session, clock) = New();
        journal.TaskChanged(1, publish: true);
        var durable = journal.Durable();
        var failed = await session.NextWriteAsync();
        failed.Done.SetException(new IOException("disk full"));

        var ex = await Assert.ThrowsAsync<FlameException>(() => durable.WaitAsync(OneScheduler.Timeout));
        Assert.Equal(FlameErrorKind.Unavailable, ex.Kind);
        Assert.Contains("disk full", ex.Message);
        Assert.Empty(session.Told);
        Assert.Empty(session.Writes); // not before the delay

        clock.Advance(SessionJournal.RetryDelay);
        var retry = await session.NextWriteAsync();
        Assert.Equal([1L], retry.Tasks.Select(t => t.Id));
        Assert.NotNull(retry.Tasks[0].Input); // never written: its input goes again
        retry.Done.SetResult();
        await journal.Durable().WaitAsync(OneScheduler.Timeout);
        await Task.Yield();
        Assert.Equal([1L], Assert.Single(session.Told));
    });

    [Fact]
    public Task ATasksInput_IsWrittenWithItsFirstFlushOnly() => OneScheduler.Run(async () =>
    {
        var (journal, session, _) = New();
        journal.Restored(taskCount: 1); // task 1 is in the store already
        journal.TaskChanged(1, publish: false);
        journal.TaskChanged(2, publish: false);
        var first = await session.NextWriteAsync();
        Assert.Null(first.Tasks[0].Input);
        Assert.NotNull(first.Tasks[1].Input);
        first.Done.SetResult();
        await journal.Durable().WaitAsync(OneScheduler.Timeout);

        journal.TaskChanged(2, publish: false);
        var second = await session.NextWriteAsync();
        Assert.Null(Assert.Single(second.Tasks).Input);
        second.Done.SetResult();
    });

    [Fact]
    public Task AfterForget_NothingIsWritten_AndAFlushInTheStoreIsNotPublished() => OneScheduler.Run(async () =>
    {
        var (journal, session, _) = New();
        journal.TaskChanged(1, publish: true);
        var inStore = await session.NextWriteAsync();
        journal.TaskChanged(2, publish: true);
        journal.Forget();

        inStore.Done.SetResult();
        await journal.Durable().WaitAsync(OneScheduler.Timeout);
        await Task.Yield();
        Assert.Empty(session.Told);
        Assert.Empty(session.Writes);
        Assert.True(journal.AllPublished);
    });
}
