using Orleans.Core.Internal;

namespace Flame.Grains.Tests;

// Grains lost with their silo (an executor, a node, the scheduler) and what the others make of it.
public sealed partial class ExecutionFlowTests
{
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

    /// <summary>An executor as an executor manager names it in RegisterNode: one slot.</summary>
    private static ExecutorInfo Live(string id) => new() { Id = id, Node = "", ResReq = new ResourceRequirement { Cpu = 1 } };

    /// <summary>Deactivates a grain: its next call finds a new, empty activation, as after the death of its silo.</summary>
    private static async Task LoseGrainAsync(IAddressable grain) =>
        await grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
}
