using System.Text;
using System.Threading.Channels;
using Flame.Grains;

namespace Flame.Grains.Tests;

/// <summary>
/// The execution plane through the grains alone: the test plays the executor manager, calling the
/// grains in the order the Backend protocol does.
/// </summary>
[Collection(ExecutionClusterCollection.Name)]
public sealed partial class ExecutionFlowTests(ExecutionClusterFixture fixture) : IAsyncLifetime
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
    private static TimeSpan Timeout => Wait.Timeout;

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

    /// <summary>What the scheduler sees and what the session recorded, for a failure's message.</summary>
    private async Task<string> DescribeAsync(ISessionGrain session)
    {
        var scheduler = _grains.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);
        return $"the scheduler sees executors [{string.Join(", ", await scheduler.ListExecutorsAsync())}] and nodes "
            + $"[{string.Join(", ", await scheduler.ListNodesAsync())}]; session: {(await session.GetAsync()).Status}, events: "
            + string.Join(" | ", (await session.GetAsync()).Status.Events.Select(e => e.Message));
    }
}
