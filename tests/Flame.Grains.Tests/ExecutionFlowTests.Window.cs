namespace Flame.Grains.Tests;

// The task window (ExchangeTasks): several tasks per call, each executor's share, tasks given back.
public sealed partial class ExecutionFlowTests
{
    private static TaskResultInfo Ok(TaskInfo task) => new() { Output = task.Input, TaskId = task.Id, Launch = task.Launch };

    [Fact]
    public async Task AWindow_HandsSeveralTasksAtOnce_AndTakesTheirResultsInOneCall()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync();
        await session.CreateTasksAsync([.. Enumerable.Range(1, 10).Select(i => new byte[] { (byte)i })]);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);

        var first = await PollAsync(() => session.ExchangeTasksAsync(id, [], [], holding: 0, window: 4));
        Assert.Equal([1L, 2, 3, 4], first.Select(t => t.Id));
        Assert.Equal([1L, 2, 3, 4], first.Select(t => t.Launch)); // numbered in the order handed
        Assert.Equal(4, (await session.GetAsync()).Status.Running);

        // Two results, two still held: two more come, to fill the window.
        var second = await PollAsync(() => session.ExchangeTasksAsync(id, [Ok(first[0]), Ok(first[1])], [], holding: 2, window: 4));
        Assert.Equal([5L, 6], second.Select(t => t.Id));
        var held = first[2..].Concat(second).ToList();
        var ran = 2;
        while (held.Count > 0)
        {
            var next = await session.ExchangeTasksAsync(id, [.. held.Select(Ok)], [], holding: 0, window: 4);
            ran += held.Count;
            held = next.Item is { } tasks ? [.. tasks] : [];
            if (next.Item is null)
                Assert.False(next.KeepWaiting); // delay_release 0: no more work, unbind
        }
        Assert.Equal(10, ran);
        var status = (await session.GetAsync()).Status;
        Assert.Equal((0, 0, 10), (status.Pending, status.Running, status.Succeed));
        Assert.Equal(new byte[] { 7 }, (await session.GetTaskAsync(7)).Output);
    }

    [Fact]
    public async Task AWindow_TakesAtMostItsShareOfThePendingTasks()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 2);
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTasksAsync([[1], [2], [3], [4], [5], [6]]);
        var (_, a) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var (_, b) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);

        // Six pending over two executors: three each, though each asks for eight.
        var first = await PollAsync(() => session.ExchangeTasksAsync(a, [], [], holding: 0, window: 8));
        Assert.Equal(3, first.Length);
        var second = await PollAsync(() => session.ExchangeTasksAsync(b, [], [], holding: 0, window: 8));
        Assert.Equal(3, second.Length);
        Assert.Empty(first.Select(t => t.Id).Intersect(second.Select(t => t.Id)));
    }

    [Fact]
    public async Task AnExecutorThatStillHolds_IsAnsweredAtOnce_AndGetsAgainWhatALostAnswerCarried()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTasksAsync([[1], [2]]);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var handed = await PollAsync(() => session.ExchangeTasksAsync(id, [], [], holding: 0, window: 4));
        Assert.Equal([1L, 2], handed.Select(t => t.Id));

        // The answer was lost: asked again knowing of none, the executor gets the same tasks, same launches.
        var again = await PollAsync(() => session.ExchangeTasksAsync(id, [], [], holding: 0, window: 4));
        Assert.Equal(handed.Select(t => (t.Id, t.Launch)), again.Select(t => (t.Id, t.Launch)));

        // Holding one, with nothing pending: an empty answer now, not a wait and not the end of the binding.
        var now = await session.ExchangeTasksAsync(id, [Ok(handed[0])], [], holding: 1, window: 4).WaitAsync(Timeout);
        Assert.Equal([], now.Item!);

        // The same result sent again (its answer lost) is skipped: recorded once, nothing else changes.
        await session.ExchangeTasksAsync(id, [Ok(handed[0]), Ok(handed[1])], [], holding: 0, window: 4).WaitAsync(Timeout);
        var status = (await session.GetAsync()).Status;
        Assert.Equal((0, 0, 2, 0), (status.Pending, status.Running, status.Succeed, status.Failed));
        Assert.Equal(3, (await session.GetTaskAsync(1)).Events.Count); // created, running, succeeded
    }

    [Fact]
    public async Task TasksReturnedUnstarted_AndTheUnstartedTasksOfADetachedExecutor_CountNoAttempt()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 2);
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTasksAsync([[1], [2], [3]]);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var handed = await PollAsync(() => session.ExchangeTasksAsync(id, [], [], holding: 0, window: 3));
        Assert.Equal(3, handed.Length);

        // Task 1 ran and failed (its service died); 2 is given back unstarted; the executor leaves holding 3.
        var failed = Ok(handed[0]) with { ReturnCode = -1, Output = null, Message = "service died", SystemFailure = true };
        var leaving = await session.ExchangeTasksAsync(id, [failed], [handed[1].Launch], holding: 0, window: 0).WaitAsync(Timeout);
        Assert.Equal([3L], leaving.Item!.Select(t => t.Id)); // still held: handed back to it, nothing new
        await session.DetachExecutorAsync(id, "executor lost");

        var one = await session.GetTaskAsync(1);
        Assert.Equal(TaskState.Pending, one.State);
        Assert.Contains("attempt 1 of 3 failed", one.Events[^1].Message);
        // 2 and 3 never ran: pending again with no attempt spent, so they still have all three.
        foreach (var taskId in new long[] { 2, 3 })
        {
            var task = await session.GetTaskAsync(taskId);
            Assert.Equal(TaskState.Pending, task.State);
            Assert.Contains("returned unstarted", task.Events[^1].Message);
        }
        // Each fails once more on another executor: 1 on its second attempt, 2 and 3 on their first.
        var (_, next) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        for (var i = 0; i < 3; i++)
        {
            var task = Assert.Single(await PollAsync(() => session.ExchangeTasksAsync(next, [], [], holding: 0, window: 1)));
            await session.ExchangeTasksAsync(next, [Ok(task) with { ReturnCode = -1, Message = "no", SystemFailure = true }], [], holding: 0, window: 0).WaitAsync(Timeout);
        }
        Assert.Contains("attempt 2 of 3 failed", (await session.GetTaskAsync(1)).Events[^1].Message);
        Assert.Contains("attempt 1 of 3 failed", (await session.GetTaskAsync(2)).Events[^1].Message);
        Assert.Contains("attempt 1 of 3 failed", (await session.GetTaskAsync(3)).Events[^1].Message);
    }

    [Fact]
    public async Task TasksGivenBackFromBehindALongTask_GoFirstToTheNextExecutor_InTheirOrder()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 2);
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTasksAsync([[1], [2], [3], [4], [5]]);
        var (_, a) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var handed = await PollAsync(() => session.ExchangeTasksAsync(a, [], [], holding: 0, window: 3));
        Assert.Equal([1L, 2, 3], handed.Select(t => t.Id));

        // Task 1 runs long: the executor gives back 2 and 3, keeps 1, and asks for nothing more (window 1).
        var giveBack = await session.ExchangeTasksAsync(a, [], [handed[1].Launch, handed[2].Launch], holding: 1, window: 1)
            .WaitAsync(Timeout);
        Assert.Equal([], giveBack.Item!);
        var status = (await session.GetAsync()).Status;
        Assert.Equal((4, 1), (status.Pending, status.Running));

        // Another executor gets them before the tasks that were behind them, with every attempt still to spend.
        var (_, b) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var taken = await PollAsync(() => session.ExchangeTasksAsync(b, [], [], holding: 0, window: 8));
        Assert.Equal([2L, 3], taken.Take(2).Select(t => t.Id));
        Assert.Contains("returned unstarted by its executor", (await session.GetTaskAsync(2)).Events[2].Message);
    }
}
