using Flame.Grains.Hosting;
using Flame.Grains.Sessions;
using Microsoft.Extensions.Time.Testing;

namespace Flame.Grains.Tests.Sessions;

public sealed class ExecutorDispatcherTests
{
    /// <summary>A session around a real task table; it records what the dispatcher tells it.</summary>
    private sealed class FakeSession : IDispatchHost
    {
        public readonly List<long> Changed = [];
        public readonly List<string> Unbinds = [];
        public int WorkChanges;
        public int ExecutorChanges;
        public bool Exists = true;
        public bool Closed;
        public uint MinInstances;
        public long DelayReleaseMs = 5000;

        public string SessionId => "s";
        public TaskTable Tasks { get; } = new();

        public bool TryGetTerms(out DispatchTerms terms)
        {
            terms = new DispatchTerms(Closed, MinInstances, DelayReleaseMs);
            return Exists;
        }

        public void TaskChanged(long taskId) => Changed.Add(taskId);
        public void WorkChanged() => WorkChanges++;
        public void ExecutorsChanged() => ExecutorChanges++;
        public void Unbound(string executorId, string reason, int code) => Unbinds.Add($"{executorId} {code}: {reason}");
    }

    private static readonly TaskResultInfo Success = new() { Output = [1] };

    private static (ExecutorDispatcher Dispatcher, FakeSession Session, FakeTimeProvider Clock) New(int maxAttempts = 3)
    {
        var session = new FakeSession();
        var clock = new FakeTimeProvider();
        var execution = new FlameExecutionOptions { MaxTaskAttempts = maxAttempts, LongPollSlice = TimeSpan.FromSeconds(10) };
        var outcomes = new TaskOutcomes(() => session.Tasks, new FlameLimitsOptions(), execution, clock, session.TaskChanged);
        var dispatcher = new ExecutorDispatcher(session, outcomes, execution, clock);
        return (dispatcher, session, clock);
    }

    private static TaskExchange Window(int holding, int window, TaskResultInfo[]? results = null, long[]? returned = null) =>
        new() { Kind = TaskExchangeKind.Window, Holding = holding, Window = window, Results = results ?? [], Returned = returned ?? [] };

    private static TaskResultInfo Ok(TaskInfo task) => Success with { TaskId = task.Id, Launch = task.Launch };

    [Fact]
    public Task AWaitingExecutor_GetsATask_TheMomentOneIsQueued_OldestWaiterFirst() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("a");
        dispatcher.Attach("b");
        var a = dispatcher.ExchangeAsync("a", TaskExchange.Next);
        var b = dispatcher.ExchangeAsync("b", TaskExchange.Next);
        Assert.False(a.IsCompleted);

        session.Tasks.Add([7], 0);
        dispatcher.Dispatch();
        var handed = await a.WaitAsync(OneScheduler.Timeout);
        Assert.Equal(1, handed.Task!.Id);
        Assert.Equal(1, handed.Task.Launch);
        Assert.False(b.IsCompleted);
        Assert.Equal(TaskState.Running, session.Tasks.StateOf(1));
        Assert.Equal([1L], session.Changed);
    });

    [Fact]
    public Task AnIdleExecutor_IsReleasedAfterDelayRelease_AndTheLeaveIsRecordedOnce() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, clock) = New();
        dispatcher.Attach("a");
        var poll = dispatcher.ExchangeAsync("a", TaskExchange.Next);
        clock.Advance(TimeSpan.FromMilliseconds(4999));
        await Task.Yield();
        Assert.False(poll.IsCompleted);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await poll.WaitAsync(OneScheduler.Timeout)).Ended);
        Assert.True((await dispatcher.ExchangeAsync("a", TaskExchange.Next)).Ended);
        Assert.Equal([$"a {SessionEventCodes.ExecutorUnbound}: no pending task for delay_release (5s)"], session.Unbinds);
    });

    [Fact]
    public Task MinInstancesExecutors_AreNeverReleasedForLackOfWork_TheyAskAgain() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, clock) = New();
        session.MinInstances = 1;
        dispatcher.Attach("a");
        var poll = dispatcher.ExchangeAsync("a", TaskExchange.Next);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True((await poll.WaitAsync(OneScheduler.Timeout)).KeepWaiting);
        Assert.Empty(session.Unbinds);
    });

    [Fact]
    public Task AClosedSession_ReleasesAnIdleExecutorAtOnce() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        session.Closed = true;
        dispatcher.Attach("a");
        Assert.True((await dispatcher.ExchangeAsync("a", TaskExchange.Next)).Ended);
        Assert.Contains("the session is closed and has no pending task", Assert.Single(session.Unbinds));
    });

    [Fact]
    public Task APreemptedExecutor_LeavesAtOnceWhenIdle_AndAfterItsTaskWhenBusy() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("idle");
        dispatcher.Attach("busy");
        session.Tasks.Add(null, 0);
        var task = (await dispatcher.ExchangeAsync("busy", TaskExchange.Next)).Task!;
        var idle = dispatcher.ExchangeAsync("idle", TaskExchange.Next);

        dispatcher.Preempt("idle", "other", "higher priority");
        dispatcher.Preempt("busy", "other", "higher priority");
        Assert.True((await idle.WaitAsync(OneScheduler.Timeout)).Ended);
        session.Tasks.Add(null, 0);
        var after = await dispatcher.ExchangeAsync("busy", new TaskExchange { Result = Ok(task) });
        Assert.True(after.Ended);
        Assert.Equal(TaskState.Succeed, session.Tasks.StateOf(task.Id));
        Assert.Equal(TaskState.Pending, session.Tasks.StateOf(2)); // not taken by the leaving executor
        Assert.Equal(2, session.Unbinds.Count(u => u.Contains("preempted for session 'other'")));
    });

    [Fact]
    public Task ACompletion_ForATaskTheExecutorDoesNotHold_IsRefused() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("a");
        session.Tasks.Add(null, 0);
        var task = (await dispatcher.ExchangeAsync("a", TaskExchange.Next)).Task!;
        var complete = new TaskExchange { Kind = TaskExchangeKind.Complete, Result = Ok(task) with { Launch = task.Launch + 1 } };

        var wrongLaunch = await Assert.ThrowsAsync<FlameException>(() => dispatcher.ExchangeAsync("a", complete));
        Assert.Equal(FlameErrorKind.FailedPrecondition, wrongLaunch.Kind);
        await dispatcher.ExchangeAsync("a", complete with { Result = Ok(task) });
        var late = await Assert.ThrowsAsync<FlameException>(() => dispatcher.ExchangeAsync("a", complete with { Result = Ok(task) }));
        Assert.Contains("holds no task", late.Message);
        var stranger = await Assert.ThrowsAsync<FlameException>(() => dispatcher.ExchangeAsync("x", TaskExchange.Next));
        Assert.Contains("not bound", stranger.Message);
    });

    [Fact]
    public Task AskingAgainWhileHoldingATask_GivesTheSameTask() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("a");
        session.Tasks.Add(null, 0);
        session.Tasks.Add(null, 0);
        var first = (await dispatcher.ExchangeAsync("a", TaskExchange.Next)).Task!;
        var again = (await dispatcher.ExchangeAsync("a", TaskExchange.Next)).Task!;
        Assert.Equal((first.Id, first.Launch), (again.Id, again.Launch));
        Assert.Equal(1, session.Tasks.CountOf(TaskState.Pending));
    });

    [Fact]
    public Task AWindow_IsFilledUpToTheExecutorsShare_AndWhatALostAnswerHeldComesAgain() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("a");
        dispatcher.Attach("b");
        for (var i = 0; i < 4; i++)
            session.Tasks.Add(null, 0);
        var handed = await dispatcher.ExchangeAsync("a", Window(holding: 0, window: 8));
        Assert.Equal(2, handed.Count); // 4 tasks over 2 executors

        var again = await dispatcher.ExchangeAsync("a", Window(holding: 0, window: 8));
        Assert.Equal([1L, 2L], new[] { again.Task!.Id, again.More![0].Id });
        var nothingNew = await dispatcher.ExchangeAsync("a", Window(holding: 2, window: 8));
        Assert.Same(TaskHandout.None, nothingNew);
    });

    [Fact]
    public Task Detach_CostsTheRunningTaskAnAttempt_AndPutsItsWindowsUnstartedTasksBackInOrder() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("a");
        for (var i = 0; i < 3; i++)
            session.Tasks.Add(null, 0);
        Assert.Equal(3, (await dispatcher.ExchangeAsync("a", Window(holding: 0, window: 3))).Count);

        dispatcher.Detach(["a"], "node lost");
        Assert.Equal(3, session.Tasks.CountOf(TaskState.Pending));
        Assert.Equal(1, session.Tasks.AttemptsOf(1));
        Assert.Equal(0, session.Tasks.AttemptsOf(2));
        dispatcher.Attach("b");
        var next = await dispatcher.ExchangeAsync("b", Window(holding: 0, window: 3));
        Assert.Equal([2L, 3L, 1L], new[] { next.Task!.Id, next.More![0].Id, next.More[1].Id });
        Assert.False(dispatcher.IsAttached("a"));
    });

    [Fact]
    public Task GivingBack_PutsATaskAtTheFrontWithoutAnAttempt() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("a");
        session.Tasks.Add(null, 0);
        session.Tasks.Add(null, 0);
        var task = (await dispatcher.ExchangeAsync("a", TaskExchange.Next)).Task!;

        var back = await dispatcher.ExchangeAsync("a", new TaskExchange { Kind = TaskExchangeKind.GiveBack, Returned = [task.Launch] });
        Assert.Same(TaskHandout.None, back);
        Assert.Equal(TaskState.Pending, session.Tasks.StateOf(task.Id));
        Assert.Equal(0, session.Tasks.AttemptsOf(task.Id));
        Assert.Equal(task.Id, (await dispatcher.ExchangeAsync("a", TaskExchange.Next)).Task!.Id);
    });

    [Fact]
    public Task ALeavingWindow_GetsNothingNew_AndItsHeldTasksDoNotCountAsRun() => OneScheduler.Run(async () =>
    {
        var (dispatcher, session, _) = New();
        dispatcher.Attach("a");
        for (var i = 0; i < 3; i++)
            session.Tasks.Add(null, 0);
        var handed = await dispatcher.ExchangeAsync("a", Window(holding: 0, window: 2));
        var leaving = await dispatcher.ExchangeAsync("a", Window(holding: 2, window: 0, results: [Ok(handed.Task!)]));
        Assert.Equal(0, leaving.Count);

        dispatcher.Detach(["a"], "gone");
        Assert.Equal(0, session.Tasks.AttemptsOf(handed.More![0].Id));
        Assert.Equal(TaskState.Succeed, session.Tasks.StateOf(handed.Task!.Id));
    });
}
