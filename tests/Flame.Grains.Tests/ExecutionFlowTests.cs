using System.Text;
using System.Threading.Channels;
using Flame.Grains;
using Orleans.Core.Internal;

namespace Flame.Grains.Tests;

/// <summary>
/// The execution plane through the grains alone: the test plays the executor manager, calling the
/// grains in the order the Backend protocol does.
/// </summary>
[Collection(ExecutionClusterCollection.Name)]
public sealed class ExecutionFlowTests(ExecutionClusterFixture fixture) : IAsyncLifetime
{
    private readonly IGrainFactory _grains = fixture.Grains;
    private readonly List<ISessionGrain> _sessions = [];
    private readonly List<(INodeGrain Node, CancellationTokenSource Stop)> _heartbeats = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// Closes this test's sessions (so the scheduler orders no more executors for them), unregisters its executors
    /// (an idle one left behind would be given to the next test's session instead of the executor that test orders),
    /// and stops its heartbeats.
    /// </summary>
    public async Task DisposeAsync()
    {
        foreach (var session in _sessions)
            await session.CloseAsync();
        foreach (var executor in _executors)
            await executor.UnregisterAsync();
        foreach (var (_, stop) in _heartbeats)
            await stop.CancelAsync();
    }

    private readonly List<IExecutorGrain> _executors = [];

    /// <summary>Heartbeats every 300 ms, as an executor manager with <paramref name="slots"/> slots sends them.</summary>
    private CancellationTokenSource KeepBeating(INodeGrain node, int slots = 1)
    {
        var stop = new CancellationTokenSource();
        _heartbeats.Add((node, stop));
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(300));
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await node.HeartbeatAsync(new NodeInfo { Name = node.GetPrimaryKeyString(), Allocatable = new ResourceRequirement { Cpu = (ulong)slots } });
                }
                catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
                {
                    // The node grain was lost (a test does that on purpose): the test registers it again.
                }
            }
        });
        return stop;
    }
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private sealed class NodeOrders : INodeWatcher
    {
        public Channel<ExecutorInfo> Orders { get; } = Channel.CreateUnbounded<ExecutorInfo>();

        public Task OnExecutorAsync(ExecutorInfo executor)
        {
            Orders.Writer.TryWrite(executor);
            return Task.CompletedTask;
        }
    }

    private async Task<(INodeGrain Node, NodeOrders Orders, INodeWatcher Reference)> NewNodeAsync(int slots, bool heartbeat = true)
    {
        var name = "node-" + Guid.NewGuid().ToString("N")[..8];
        var node = _grains.GetGrain<INodeGrain>(name);
        await node.RegisterAsync(new NodeInfo { Name = name, Allocatable = new ResourceRequirement { Cpu = (ulong)slots } }, []);
        var orders = new NodeOrders();
        var reference = _grains.CreateObjectReference<INodeWatcher>(orders);
        await node.WatchAsync(reference);
        if (heartbeat)
            KeepBeating(node, slots);
        return (node, orders, reference);
    }

    private async Task<ISessionGrain> NewSessionAsync(long? delayRelease = 0)
    {
        var app = "flow-" + Guid.NewGuid().ToString("N")[..8];
        await _grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
            .RegisterAsync(app, new ApplicationSpec { Command = "/bin/true", DelayRelease = delayRelease });
        var session = _grains.GetGrain<ISessionGrain>("flow-" + Guid.NewGuid().ToString("N")[..10]);
        await session.CreateAsync(new SessionSpec { Application = app, CommonData = Encoding.UTF8.GetBytes("common") });
        _sessions.Add(session);
        return session;
    }

    /// <summary>Waits for the scheduler to order an executor, registers and binds it like an executor manager.</summary>
    private async Task<(IExecutorGrain Executor, string Id)> BindOrderedExecutorAsync(NodeOrders orders, string node, ISessionGrain session)
    {
        // The node also hears of its executors' later changes: the next order is the next new (Void) executor.
        ExecutorInfo order;
        try
        {
            do
                order = await orders.Orders.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            while (order.State != ExecutorState.Void);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no executor was ordered of node {node} for session {session.GetPrimaryKeyString()}: {await DescribeAsync(session)}");
            throw;
        }
        Assert.Equal(session.GetPrimaryKeyString(), order.SessionId);
        var executor = _grains.GetGrain<IExecutorGrain>(order.Id);
        _executors.Add(executor);
        await executor.RegisterAsync(new ExecutorInfo { Id = order.Id, Node = node, ResReq = order.ResReq });
        var binding = await PollAsync(() => executor.BindAsync());
        Assert.Equal(session.GetPrimaryKeyString(), binding.Session.Id);
        Assert.Equal("common", Encoding.UTF8.GetString(binding.Session.Spec.CommonData!));
        await executor.BindCompletedAsync(0, null);
        Assert.Equal(ExecutorState.Bound, (await executor.GetAsync()).State);
        return (executor, order.Id);
    }

    /// <summary>An executor registered by hand on <paramref name="node"/> (Idle), as an executor manager would.</summary>
    private async Task<IExecutorGrain> RegisterIdleExecutorAsync(INodeGrain node)
    {
        var id = "manual-" + Guid.NewGuid().ToString("N")[..8];
        var executor = _grains.GetGrain<IExecutorGrain>(id);
        _executors.Add(executor);
        // The size of the sessions' default resreq (cpu=1,mem=1g), so that it can serve them.
        await executor.RegisterAsync(new ExecutorInfo { Id = id, Node = node.GetPrimaryKeyString(), ResReq = ClusterFixture.Execution.DefaultResourceRequirement });
        return executor;
    }

    private static async Task<T> PollAsync<T>(Func<Task<PollResult<T>>> poll) where T : class
    {
        while (true)
        {
            var result = await poll().WaitAsync(Timeout);
            if (result.Item is { } item)
                return item;
            Assert.True(result.KeepWaiting, $"the poll ended without a {typeof(T).Name}");
        }
    }

    [Fact]
    public async Task PendingTasks_GetAnExecutor_RunToSucceed_AndTheExecutorUnbindsWhenIdle()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync();
        for (var i = 0; i < 3; i++)
            await session.CreateTaskAsync(Encoding.UTF8.GetBytes($"in{i}"));

        var (executor, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        for (var i = 1; i <= 3; i++)
        {
            var task = await PollAsync(() => session.LaunchTaskAsync(id));
            Assert.Equal(i, task.Id);
            Assert.Equal(TaskState.Running, task.State);
            await session.CompleteTaskAsync(id, new TaskResultInfo { Output = task.Input });
        }
        var status = (await session.GetAsync()).Status;
        Assert.Equal((0, 0, 3), (status.Pending, status.Running, status.Succeed));
        Assert.Equal("in2", Encoding.UTF8.GetString((await session.GetTaskAsync(3)).Output!));

        // delay_release is 0: with no work left, the next launch says "done" and the executor unbinds.
        var last = await session.LaunchTaskAsync(id);
        Assert.Null(last.Item);
        Assert.False(last.KeepWaiting);
        await executor.UnbindAsync();
        await executor.UnbindCompletedAsync();
        Assert.Equal(ExecutorState.Idle, (await executor.GetAsync()).State);
    }

    [Fact]
    public async Task CompleteAndLaunch_RecordsTheResult_AndReturnsTheNextTask_InOneCall()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync();
        await session.CreateTasksAsync([[1], [2], [3]]);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var task = await PollAsync(() => session.LaunchTaskAsync(id));
        for (var expected = 2; expected <= 3; expected++)
        {
            var next = await session.CompleteAndLaunchTaskAsync(id, new TaskResultInfo { Output = task.Input });
            Assert.Equal(expected, next.Item?.Id);
            task = next.Item!;
        }
        var last = await session.CompleteAndLaunchTaskAsync(id, new TaskResultInfo { Output = task.Input });
        Assert.Null(last.Item); // delay_release 0: no more work
        var status = (await session.GetAsync()).Status;
        Assert.Equal((0, 0, 3), (status.Pending, status.Running, status.Succeed));
        Assert.Equal(new byte[] { 3 }, (await session.GetTaskAsync(3)).Output);
    }

    [Fact]
    public async Task ATaskCreatedWhileAnExecutorWaits_IsHandedOverAtOnce()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTaskAsync(null);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var first = await PollAsync(() => session.LaunchTaskAsync(id));
        await session.CompleteTaskAsync(id, new TaskResultInfo());

        var waiting = session.LaunchTaskAsync(id);
        Assert.False(waiting.IsCompleted, "LaunchTask returned before any task existed");
        var created = await session.CreateTaskAsync(null);
        var handed = await waiting.WaitAsync(Timeout);
        Assert.Equal(created.Id, handed.Item?.Id);
        Assert.NotEqual(first.Id, created.Id);
    }

    [Fact]
    public async Task AnErrorResultOfTheService_FailsTheTaskAtOnce_WithItsMessage()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync();
        await session.CreateTasksAsync([null, null]);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var task = await PollAsync(() => session.LaunchTaskAsync(id));
        await session.CompleteTaskAsync(id, new TaskResultInfo { ReturnCode = -1, Message = "ValueError: bad input", Output = [9] });

        var failed = await session.GetTaskAsync(task.Id);
        Assert.Equal(TaskState.Failed, failed.State);
        Assert.Equal([0, 1, 3], failed.Events.Select(e => e.Code));
        Assert.Equal("ValueError: bad input", failed.Events[^1].Message);
        Assert.Equal(new byte[] { 9 }, failed.Output);
        // The executor goes on with the next task.
        Assert.Equal(2, (await PollAsync(() => session.LaunchTaskAsync(id))).Id);
    }

    [Fact]
    public async Task SystemFailures_AreRetried_ThenTheTaskFails_WithTheLastMessage()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync();
        await session.CreateTaskAsync(null);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        for (var attempt = 1; attempt <= ClusterFixture.Execution.MaxTaskAttempts; attempt++)
        {
            var task = await PollAsync(() => session.LaunchTaskAsync(id));
            Assert.Equal(1, task.Id);
            await session.CompleteTaskAsync(id, new TaskResultInfo { ReturnCode = -1, Message = "boom", SystemFailure = true });
        }
        var failed = await session.GetTaskAsync(1);
        Assert.Equal(TaskState.Failed, failed.State);
        Assert.Equal([0, 1, 0, 1, 0, 1, 3], failed.Events.Select(e => e.Code));
        Assert.Contains("attempt 1 of 3 failed: boom", failed.Events[2].Message);
        Assert.Contains("boom", failed.Events[^1].Message);
        Assert.Equal(1, (await session.GetAsync()).Status.Failed);
    }

    [Fact]
    public async Task ALateCompletion_IsRefused_AndChangesNothing()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync();
        await session.CreateTaskAsync(null);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        await PollAsync(() => session.LaunchTaskAsync(id));
        await session.CompleteTaskAsync(id, new TaskResultInfo { Output = [1] });
        var ex = await Assert.ThrowsAsync<FlameException>(() => session.CompleteTaskAsync(id, new TaskResultInfo { ReturnCode = 1, Message = "late" }));
        Assert.Equal(FlameErrorKind.FailedPrecondition, ex.Kind);
        var task = await session.GetTaskAsync(1);
        Assert.Equal(TaskState.Succeed, task.State);
        Assert.Equal(new byte[] { 1 }, task.Output);

        var stranger = await Assert.ThrowsAsync<FlameException>(() => session.CompleteTaskAsync("not-bound", new TaskResultInfo()));
        Assert.Equal(FlameErrorKind.FailedPrecondition, stranger.Kind);
    }

    [Fact]
    public async Task ARetriedResultOfAnEarlierLaunch_IsRefused_WhenTheSameExecutorRunsTheSameTaskAgain()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync();
        await session.CreateTaskAsync(null);
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var first = await PollAsync(() => session.LaunchTaskAsync(id));
        Assert.NotEqual(0, first.Launch);

        // The attempt fails; the task is the only one, so this executor gets it again, as a new launch.
        var failed = new TaskResultInfo { ReturnCode = -1, Message = "attempt 1 failed", TaskId = first.Id, Launch = first.Launch, SystemFailure = true };
        var again = await PollAsync(() => session.CompleteAndLaunchTaskAsync(id, failed));
        Assert.Equal((first.Id, first.Launch + 1), (again.Id, again.Launch));

        // The same request again (its answer was lost): not taken for the second attempt's result.
        var retried = await Assert.ThrowsAsync<FlameException>(() => session.CompleteTaskAsync(id, failed));
        Assert.Equal(FlameErrorKind.FailedPrecondition, retried.Kind);
        var task = await session.GetTaskAsync(first.Id);
        Assert.Equal(TaskState.Running, task.State);

        await session.CompleteTaskAsync(id, new TaskResultInfo { Output = [42], TaskId = again.Id, Launch = again.Launch });
        task = await session.GetTaskAsync(first.Id);
        Assert.Equal((TaskState.Succeed, (byte)42), (task.State, task.Output![0]));
    }

    [Fact]
    public async Task ANodeThatStopsHeartbeating_LosesItsExecutors_AndTheirTasksGoBackToPending()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1, heartbeat: false);
        // Alive until its executor runs the task (however long that takes on a loaded machine), then silent.
        var heartbeat = KeepBeating(node);
        var session = await NewSessionAsync();
        await session.CreateTaskAsync(null);
        var (executor, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        var running = await PollAsync(() => session.LaunchTaskAsync(id));
        Assert.Equal(1, (await session.GetAsync()).Status.Running);
        await heartbeat.CancelAsync();

        // No more heartbeats: after the timeout the node is NotReady and the task is requeued.
        var deadline = DateTime.UtcNow + Timeout;
        // A released executor deactivates: it reads as Released, then as not found.
        async Task<bool> ReleasedAsync()
        {
            try
            {
                return (await executor.GetAsync()).State == ExecutorState.Released;
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
            {
                return true;
            }
        }
        while (!await ReleasedAsync())
        {
            Assert.True(DateTime.UtcNow < deadline, "the executor of a silent node was not released");
            await Task.Delay(100);
        }
        Assert.Equal(NodeState.NotReady, (await node.GetAsync()).State);
        var bind = await Assert.ThrowsAsync<FlameException>(() => executor.BindAsync());
        Assert.Equal(FlameErrorKind.NotFound, bind.Kind); // its manager must end the worker and free the slot
        var task = await session.GetTaskAsync(running.Id);
        Assert.Equal(TaskState.Pending, task.State);
        Assert.Contains("stopped heartbeating", task.Events[^1].Message);
        var status = (await session.GetAsync()).Status;
        Assert.Equal((1, 0), (status.Pending, status.Running));
    }

    [Fact]
    public async Task ReleaseIdle_AnswersTheWaitingBindWithDone_AndReleasesOnlyAnIdleExecutor()
    {
        var (node, _, _) = await NewNodeAsync(slots: 1);
        var executor = await RegisterIdleExecutorAsync(node);
        var waiting = executor.BindAsync(); // the executor manager's long-poll

        Assert.True(await executor.ReleaseIdleAsync("preempted to make room"));
        var answer = await waiting.WaitAsync(Timeout);
        Assert.True(answer is { Item: null, KeepWaiting: false }, "expected the waiting BindExecutor to be told there is no more work");
        Assert.Equal(ExecutorState.Releasing, (await executor.GetAsync()).State);
        // A later poll (the answer lost, say) says the same; a second release changes nothing.
        Assert.False((await executor.BindAsync()).KeepWaiting);
        Assert.False(await executor.ReleaseIdleAsync("twice"));
        await executor.UnregisterAsync(); // what the executor manager does next
    }

    [Fact]
    public async Task IllegalExecutorCalls_AreRefused()
    {
        var (node, _, _) = await NewNodeAsync(slots: 1);
        var executor = await RegisterIdleExecutorAsync(node);
        var unbind = await Assert.ThrowsAsync<FlameException>(() => executor.UnbindAsync());
        Assert.Equal(FlameErrorKind.FailedPrecondition, unbind.Kind);
        var completed = await Assert.ThrowsAsync<FlameException>(() => executor.BindCompletedAsync(0, null));
        Assert.Equal(FlameErrorKind.FailedPrecondition, completed.Kind);
        Assert.Equal(ExecutorState.Idle, (await executor.GetAsync()).State);
    }

    // ---- The task window (ExchangeTasks) ----------------------------------------------------------

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


    [Fact]
    public async Task AnExecutorLostWithItsSilo_FreesItsNodesRoom_AndItsTaskRunsOnANewExecutor()
    {
        var (node, orders, _) = await NewNodeAsync(slots: 1);
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTasksAsync([[1], [2]]);
        var (lost, lostId) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        Assert.Equal(1, (await PollAsync(() => session.LaunchTaskAsync(lostId))).Id);

        await LoseGrainAsync(lost); // what the death of its silo does to it: nothing is persisted
        _executors.Remove(lost);
        Assert.Equal(FlameErrorKind.NotFound, (await Assert.ThrowsAsync<FlameException>(() => lost.GetAsync())).Kind);

        // The node had room for one executor only, and counted the lost one: a new order means it forgot it.
        var (_, id) = await BindOrderedExecutorAsync(orders, node.GetPrimaryKeyString(), session);
        Assert.NotEqual(lostId, id);
        Assert.Equal([id], (await node.ListExecutorsAsync()).Select(e => e.Id));
        var ran = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            var task = await PollAsync(() => session.LaunchTaskAsync(id));
            ran.Add(task.Id);
            await session.CompleteTaskAsync(id, new TaskResultInfo { Output = task.Input });
        }
        Assert.Equal([1, 2], ran.Order());
        Assert.Equal(2, (await session.GetAsync()).Status.Succeed);
    }

    [Fact]
    public async Task ANodeRegisteredAgain_CountsTheExecutorsItStillRuns_AndLosesThoseItDoesNot()
    {
        var (node, orders, watcher) = await NewNodeAsync(slots: 1);
        var name = node.GetPrimaryKeyString();
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTaskAsync(null);
        var (executor, id) = await BindOrderedExecutorAsync(orders, name, session);

        // The node grain is lost with its silo; its executor manager registers the node again, with what runs on it.
        await LoseGrainAsync(node);
        var info = new NodeInfo { Name = name, Allocatable = new ResourceRequirement { Cpu = 1 } };
        await node.RegisterAsync(info, [Live(id), Live("not-in-the-cluster")]);
        await node.WatchAsync(watcher);
        Assert.Equal([id], (await node.ListExecutorsAsync()).Select(e => e.Id));
        Assert.Equal(ExecutorState.Bound, (await executor.GetAsync()).State);
        // The one the cluster does not know is forgotten; the one it knows holds the node's only slot.
        await Wait.UntilAsync(async () => !await node.HoldsAsync("not-in-the-cluster"), "the node to forget an executor the cluster does not know", Timeout);
        Assert.True(await node.HoldsAsync(id));
        Assert.False(await node.CreateExecutorAsync(new ExecutorInfo { Id = $"{name}-probe", Node = name, ResReq = new ResourceRequirement { Cpu = 1 } }),
            "the node should have no room left for another executor");

        // Its executor manager restarted: what it no longer runs is released.
        await node.RegisterAsync(info, []);
        // (Its session may already have been given a new executor on the room this made.)
        Assert.DoesNotContain(id, (await node.ListExecutorsAsync()).Select(e => e.Id));
        // Released, and a released executor's grain keeps nothing.
        Assert.Equal(FlameErrorKind.NotFound, (await Assert.ThrowsAsync<FlameException>(() => executor.GetAsync())).Kind);
        _executors.Remove(executor);
    }

    [Theory]
    [InlineData(true)] // the executor manager has not heard yet that the executor is gone: the node checks it
    [InlineData(false)] // it has, and its UnregisterExecutor was lost: the scheduler finds out when it assigns it
    public async Task AnIdleExecutorLostWithItsNodesGrain_LeavesTheSchedulersView_AndANewOneIsOrdered(bool namedByItsNode)
    {
        var (node, orders, watcher) = await NewNodeAsync(slots: 1);
        var name = node.GetPrimaryKeyString();
        var idle = await RegisterIdleExecutorAsync(node);
        var idleId = idle.GetPrimaryKeyString();

        // The silo that held both grains dies; the executor manager registers the node again.
        await LoseGrainAsync(idle);
        await LoseGrainAsync(node);
        _executors.Remove(idle);
        await node.RegisterAsync(new NodeInfo { Name = name, Allocatable = new ResourceRequirement { Cpu = 1 } }, namedByItsNode ? [Live(idleId)] : []);
        await node.WatchAsync(watcher);

        // The scheduler held it as Idle, the one executor that fits the node: a new order means both let it go.
        var session = await NewSessionAsync();
        await session.CreateTaskAsync(null);
        var (_, id) = await BindOrderedExecutorAsync(orders, name, session);
        Assert.NotEqual(idleId, id);
        Assert.Equal([id], (await node.ListExecutorsAsync()).Select(e => e.Id));
    }

    [Fact]
    public async Task ASchedulerLostWithItsSilo_LearnsOfTheIdleExecutors()
    {
        var (node, _, _) = await NewNodeAsync(slots: 1);
        var idle = await RegisterIdleExecutorAsync(node);
        var id = idle.GetPrimaryKeyString();

        // The scheduler comes back empty. The idle executor reports only when it changes: unless the new scheduler asks
        // the node it hears of, it would order executors the node has no room for until the idle one times out (60 s).
        var scheduler = _grains.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);
        await LoseGrainAsync(scheduler);

        await Wait.UntilAsync(async () => (await scheduler.ListExecutorsAsync()).Any(e => e.Id == id && e.State == ExecutorState.Idle),
            $"the new scheduler to hear of idle executor {id}", Timeout);
    }

    [Fact]
    public async Task ASchedulerLostWithItsSilo_HearsAgainFromTheSessionsThatOutlivedIt()
    {
        // A full node: one executor, busy with the one task of session A. Session B waits, already active, and will
        // not report again until its demand changes.
        var (full, fullOrders, _) = await NewNodeAsync(slots: 1);
        var busy = await NewSessionAsync(delayRelease: 30);
        await busy.CreateTaskAsync(null);
        var (_, busyId) = await BindOrderedExecutorAsync(fullOrders, full.GetPrimaryKeyString(), busy);
        await PollAsync(() => busy.LaunchTaskAsync(busyId));
        var waiting = await NewSessionAsync();
        await waiting.CreateTaskAsync(null);

        // The scheduler comes back empty; then room appears. Only a session that reports again can be given it. (Two
        // slots: until the new scheduler hears of the busy executor from its node, it may order one for A too.)
        await LoseGrainAsync(_grains.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key));
        var (_, orders, _) = await NewNodeAsync(slots: 2);
        var ordered = new List<string?>();
        while (!ordered.Contains(waiting.GetPrimaryKeyString()))
        {
            Assert.True(ordered.Count < 2, $"the new node's orders were all for other sessions: {string.Join(", ", ordered)}");
            var order = await orders.Orders.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            if (order.State == ExecutorState.Void)
                ordered.Add(order.SessionId);
        }
    }

    [Fact]
    public async Task ANodeLostWithItsSiloAndItsExecutorManager_LosesItsExecutors_AndTheirTasksRunElsewhere()
    {
        var (dead, deadOrders, _) = await NewNodeAsync(slots: 1, heartbeat: false);
        var beating = KeepBeating(dead);
        var session = await NewSessionAsync(delayRelease: 30);
        await session.CreateTaskAsync([7]);
        var (orphan, orphanId) = await BindOrderedExecutorAsync(deadOrders, dead.GetPrimaryKeyString(), session);
        Assert.Equal(1, (await PollAsync(() => session.LaunchTaskAsync(orphanId))).Id);

        // One machine ran the silo that held the node grain and the executor manager: both die. Nobody will register
        // the node again, nor hear its heartbeats stop.
        await beating.CancelAsync();
        await LoseGrainAsync(dead);

        // The task comes back and runs on another node; its first executor is released.
        var (alive, orders, _) = await NewNodeAsync(slots: 1);
        var (_, id) = await BindOrderedExecutorAsync(orders, alive.GetPrimaryKeyString(), session);
        var task = await PollAsync(() => session.LaunchTaskAsync(id));
        Assert.Equal(1, task.Id);
        Assert.Contains(task.Events, e => e.Message?.Contains("attempt 1 of 3 failed") == true && e.Message.Contains("no longer holds it"));
        Assert.Equal(FlameErrorKind.NotFound, (await Assert.ThrowsAsync<FlameException>(() => orphan.GetAsync())).Kind);
        _executors.Remove(orphan);
    }

    /// <summary>What the scheduler sees and what the session recorded, for a failure's message.</summary>
    private async Task<string> DescribeAsync(ISessionGrain session)
    {
        var scheduler = _grains.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);
        return $"the scheduler sees executors [{string.Join(", ", await scheduler.ListExecutorsAsync())}] and nodes "
            + $"[{string.Join(", ", await scheduler.ListNodesAsync())}]; session: {(await session.GetAsync()).Status}, events: "
            + string.Join(" | ", (await session.GetAsync()).Status.Events.Select(e => e.Message));
    }

    /// <summary>An executor as an executor manager names it in RegisterNode: one slot.</summary>
    private static ExecutorInfo Live(string id) => new() { Id = id, Node = "", ResReq = new ResourceRequirement { Cpu = 1 } };

    /// <summary>Deactivates a grain: its next call finds a new, empty activation, as after the death of its silo.</summary>
    private static async Task LoseGrainAsync(IAddressable grain) =>
        await grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
}

[Collection(ExecutionClusterCollection.Name)]
public sealed class SessionStreamTests(ExecutionClusterFixture fixture)
{
    private readonly IGrainFactory _grains = fixture.Grains;

    private sealed class Finished : ISessionWatcher
    {
        public Channel<(IReadOnlyList<TaskInfo> Tasks, bool Done)> Batches { get; } = Channel.CreateUnbounded<(IReadOnlyList<TaskInfo>, bool)>();

        private readonly SessionBatchOrder _order = new();

        public Task OnTasksFinishedAsync(IReadOnlyList<TaskInfo> tasks, bool sessionDone, long batch)
        {
            foreach (var ready in _order.Accept(tasks, sessionDone, batch))
                Batches.Writer.TryWrite(ready);
            return Task.CompletedTask;
        }
    }

    private async Task<ISessionGrain> NewSessionAsync()
    {
        var app = "stream-" + Guid.NewGuid().ToString("N")[..8];
        await _grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key).RegisterAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var session = _grains.GetGrain<ISessionGrain>("stream-" + Guid.NewGuid().ToString("N")[..10]);
        await session.CreateAsync(new SessionSpec { Application = app });
        return session;
    }

    [Fact]
    public async Task CreateTasks_AddsConsecutiveIds_AllOrNothing()
    {
        var session = await NewSessionAsync();
        Assert.Equal(1, await session.CreateTasksAsync([[1], null, [3]]));
        Assert.Equal(4, await session.CreateTasksAsync([null]));
        var tooBig = new byte[ClusterFixture.Limits.MaxTaskInputBytes + 1];
        var ex = await Assert.ThrowsAsync<FlameException>(() => session.CreateTasksAsync([null, tooBig]));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("input 1", ex.Message);
        Assert.Equal(4, (await session.GetAsync()).Status.Pending); // nothing of the refused call was created
        Assert.Equal(new byte[] { 3 }, (await session.GetTaskAsync(3)).Input);
        await session.CloseAsync();
    }

    [Fact]
    public async Task WatchSession_StreamsEveryFinishedTask_AndSaysWhenTheSessionIsDone()
    {
        var session = await NewSessionAsync();
        await session.CreateTasksAsync(Enumerable.Repeat<byte[]?>(null, 1000).ToList());
        var watcher = new Finished();
        await session.WatchSessionAsync(_grains.CreateObjectReference<ISessionWatcher>(watcher));
        await session.CloseAsync();

        var seen = new List<TaskInfo>();
        while (true)
        {
            var (tasks, done) = await watcher.Batches.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            seen.AddRange(tasks);
            if (done)
                break;
        }
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), seen.Select(t => t.Id).Order());
        Assert.All(seen, t => Assert.Equal(TaskState.Cancelled, t.State));
        GC.KeepAlive(watcher);
    }
}
