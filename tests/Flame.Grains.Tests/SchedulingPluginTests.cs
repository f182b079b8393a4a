using Flame.Grains.Scheduling;
using Flame.Grains.Scheduling.Actions;
using Flame.Grains.Scheduling.Plugins;

namespace Flame.Grains.Tests;

/// <summary>Each plugin and action of the scheduler on its own, on small hand-made clusters.</summary>
public sealed class SchedulingPluginTests
{
    private const long Now = 1_000_000;
    private static readonly SchedulingPolicy Policy = new();

    private static NodeInfo Node(string name, int cores, ulong memory = 0, int gpu = 0) => new()
    {
        Name = name, State = NodeState.Ready, Allocatable = new ResourceRequirement { Cpu = (ulong)cores, Memory = memory, Gpu = gpu },
    };

    private static SessionDemand Session(string id, int pending, uint priority = 0, uint min = 0, uint? max = null, ResourceRequirement? req = null, int running = 0) => new()
    {
        SessionId = id, Application = "app", Pending = pending, Running = running, Priority = priority, MinInstances = min, MaxInstances = max, Open = true, ResReq = req,
    };

    private static ExecutorInfo Bound(string id, string node, string session, long boundAt = 0, ResourceRequirement? req = null) =>
        new() { Id = id, Node = node, State = ExecutorState.Bound, SessionId = session, BoundAt = boundAt, ResReq = req ?? new() };

    private static List<ExecutorInfo> BoundMany(int count, string node, string session, long boundAt = 0) =>
        Enumerable.Range(0, count).Select(i => Bound($"{session}-e{i}", node, session, boundAt)).ToList();

    [Fact]
    public void Resources_CountAnExecutorAsWholeCores_AndANodeWithoutMemoryAsUnlimited()
    {
        Assert.Equal(Resources.OneCore, Resources.Of(null));
        Assert.Equal(Resources.OneCore, Resources.Of(new ResourceRequirement()));
        Assert.Equal(new Resources(2, 1 << 20, 1), Resources.Of(new ResourceRequirement { Cpu = 2, Memory = 1 << 20, Gpu = 1 }));
        Assert.Equal(Resources.Unlimited, Resources.Allocatable(Node("n", 4)).Memory);
        Assert.Equal(1, Resources.Allocatable(Node("n", 0)).Cpu);
    }

    [Fact]
    public void NodeCapacity_PlacesOnTheLeastUsedNodeThatFits_AndNeverOverCommits()
    {
        var capacity = new NodeCapacity(
            [Node("big", 8, memory: 16UL << 30), Node("gpu", 2, memory: 16UL << 30, gpu: 1)],
            [Bound("e1", "big", "s", req: new ResourceRequirement { Cpu = 4 })]);
        var gpuJob = new Resources(1, 1L << 30, 1);
        Assert.Equal("gpu", capacity.Place(gpuJob));
        Assert.Null(capacity.Place(gpuJob)); // its only GPU is taken
        Assert.Equal("big", capacity.Place(new Resources(1, 8L << 30, 0)));
        Assert.Equal("gpu", capacity.Place(new Resources(1, 9L << 30, 0))); // big has 8 GiB left, gpu 15
        Assert.Null(capacity.Place(new Resources(1, 9L << 30, 0)));
        Assert.Equal(new Resources(0, 6L << 30, 0), capacity.FreeOn("gpu"));
        Assert.Equal(new Resources(3, 8L << 30, 0), capacity.FreeOn("big"));
    }

    [Fact]
    public void InstanceLimits_RaiseDemandToMin_AndCapItAtMax()
    {
        Assert.Equal(2, InstanceLimits.Desired(Session("s", pending: 0, min: 2)));
        Assert.Equal(3, InstanceLimits.Desired(Session("s", pending: 10, max: 3)));
        Assert.Equal(7, InstanceLimits.Desired(Session("s", pending: 5, running: 2)));
        Assert.Equal(0, InstanceLimits.Desired(Session("s", pending: 5) with { Open = false }));
        Assert.Equal(1, InstanceLimits.Floor(Session("s", pending: 0, min: 4, max: 1)));
    }

    [Fact]
    public void DominantShare_IsTheLargestFractionOfAnyClusterResource()
    {
        var drf = new DominantResourceFairness(new Resources(10, 100L << 30, 2));
        Assert.Equal(0.1, drf.ShareOf(new Resources(1, 1L << 30, 0)), 6);
        Assert.Equal(0.5, drf.ShareOf(new Resources(1, 50L << 30, 0)), 6);
        Assert.Equal(0.5, drf.ShareOf(new Resources(1, 0, 1)), 6);
        Assert.Equal(double.PositiveInfinity, new DominantResourceFairness(new Resources(1, Resources.Unlimited, 0)).ShareOf(new Resources(1, 0, 1)));
    }

    [Fact]
    public void PriorityOrder_PutsHigherFirst() => Assert.True(PriorityOrder.Compare(5, 3) < 0);

    [Fact]
    public void Drf_SharesByDominantResource_NotByExecutorCount()
    {
        // 12 cores, 12 GiB. "fat" executors need 3 GiB (dominant: memory 1/4), "thin" ones 1 core (1/12):
        // DRF equalises the dominant shares: fat 3 executors (3/4 of the memory), thin 9 (3/4 of the cores);
        // by executor count it would be 6 and 6, and the fat session would hold all the memory.
        var view = new ClusterView(
            [Session("fat", 100, req: new ResourceRequirement { Cpu = 1, Memory = 3UL << 30 }), Session("thin", 100, req: new ResourceRequirement { Cpu = 1 })],
            [], [Node("n1", 12, memory: 12UL << 30)]);
        var plan = Policy.Plan(view).OfType<CreateExecutorAction>().ToList();
        Assert.Equal(3, plan.Count(c => c.SessionId == "fat"));
        Assert.Equal(9, plan.Count(c => c.SessionId == "thin"));
    }

    [Fact]
    public void MinInstances_AreServedBeforeHigherPriorityDemand()
    {
        var view = new ClusterView([Session("high", 10, priority: 9), Session("warm", 0, min: 1)], [], [Node("n1", 3)]);
        var plan = Policy.Plan(view).OfType<CreateExecutorAction>().ToList();
        Assert.Equal("warm", plan[0].SessionId);
        Assert.Equal("min_instances 1", plan[0].Reason);
        Assert.Equal(2, plan.Count(c => c.SessionId == "high"));
    }

    [Fact]
    public void Preempt_TakesFromLowerPriority_WithTheReason()
    {
        var view = new ClusterView([Session("high", 4, priority: 5), Session("low", 0, priority: 3, running: 4)],
            BoundMany(4, "n1", "low"), [Node("n1", 4)]) { Now = Now };
        var preempts = Policy.Plan(view).OfType<PreemptAction>().ToList();
        Assert.Equal(4, preempts.Count);
        Assert.All(preempts, p => Assert.Equal(("low", "high", "priority 5 > 3"), (p.FromSession, p.ForSession, p.Reason)));
    }

    [Fact]
    public void Preempt_RebalancesEqualPriority_TowardsTheFairShare()
    {
        var view = new ClusterView([Session("a", 10, running: 8), Session("b", 10)], BoundMany(8, "n1", "a"), [Node("n1", 8)]) { Now = Now };
        var preempts = Policy.Plan(view).OfType<PreemptAction>().ToList();
        Assert.Equal(4, preempts.Count);
        Assert.Equal("share 0 below fair 0.5", preempts[0].Reason);
    }

    [Fact]
    public void Preempt_DoesNotMoveADeficitBelowOneExecutor()
    {
        // 3 executors, 2 equal sessions: 2 and 1 is as fair as it gets.
        var view = new ClusterView([Session("a", 10, running: 2), Session("b", 10, running: 1)],
            [.. BoundMany(2, "n1", "a"), .. BoundMany(1, "n1", "b")], [Node("n1", 3)]) { Now = Now };
        Assert.Empty(Policy.Plan(view));
        var reversed = view with { Sessions = [Session("a", 10, running: 1), Session("b", 10, running: 2)], Executors = [.. BoundMany(1, "n1", "a"), .. BoundMany(2, "n1", "b")] };
        Assert.Empty(Policy.Plan(reversed));
    }

    [Fact]
    public void Preempt_LeavesRecentlyBoundExecutorsAlone()
    {
        var view = new ClusterView([Session("high", 4, priority: 5), Session("low", 0, running: 4)],
            [.. BoundMany(2, "n1", "low", boundAt: Now - 9_000), Bound("old1", "n1", "low", Now - 10_000), Bound("old2", "n1", "low", Now - 60_000)],
            [Node("n1", 4)]) { Now = Now };
        Assert.Equal(["old2", "old1"], Policy.Plan(view).OfType<PreemptAction>().Select(p => p.ExecutorId));
    }

    [Fact]
    public void Preempt_NeverTakesASessionBelowItsMinInstances()
    {
        var view = new ClusterView([Session("high", 4, priority: 5), Session("low", 0, min: 3, running: 4)],
            BoundMany(4, "n1", "low"), [Node("n1", 4)]) { Now = Now };
        Assert.Single(Policy.Plan(view).OfType<PreemptAction>());
    }

    [Fact]
    public void Preempt_DoesNotTakeBackFromTheSessionItWasTakenFor_WhileThatHasDemand()
    {
        // b got e0 from a; a is now under its share (it was given the rest meanwhile), b still has work.
        var executors = new List<ExecutorInfo> { Bound("e0", "n1", "b"), Bound("e1", "n1", "b"), Bound("e2", "n1", "b"), Bound("e3", "n1", "a") };
        var view = new ClusterView([Session("a", 10, running: 1), Session("b", 10, running: 3)], executors, [Node("n1", 4)])
        {
            Now = Now,
            Preemptions = [new Preemption("e0", "a", "b", Now - 20_000)],
        };
        Assert.Empty(Policy.Plan(view).OfType<PreemptAction>());
        Assert.Single(Policy.Plan(view with { Preemptions = [] }).OfType<PreemptAction>());
    }

    [Fact]
    public void InFlightPreemption_CountsForItsSession_AndTheIdleExecutorIsReservedForIt()
    {
        var sessions = new[] { Session("high", 1, priority: 5), Session("low", 5, running: 1) };
        var leaving = new ClusterView(sessions, [Bound("e0", "n1", "low")], [Node("n1", 1)])
        {
            Now = Now, Preemptions = [new Preemption("e0", "low", "high", Now - 1_000)],
        };
        Assert.Empty(Policy.Plan(leaving)); // not preempted twice, nothing created for high
        var left = leaving with { Executors = [new ExecutorInfo { Id = "e0", Node = "n1", State = ExecutorState.Idle }] };
        var bind = Assert.IsType<BindAction>(Assert.Single(Policy.Plan(left)));
        Assert.Equal(("e0", "high", "preempted for it from low"), (bind.ExecutorId, bind.SessionId, bind.Reason));
    }

    [Fact]
    public void Preempt_OnlyPicksExecutorsBigEnoughForTheStarvedSession()
    {
        var gpu = new ResourceRequirement { Cpu = 1, Gpu = 1 };
        var view = new ClusterView([Session("high", 1, priority: 5, req: gpu), Session("low", 0, running: 2)],
            [Bound("small", "n1", "low"), Bound("withgpu", "n1", "low", req: gpu)], [Node("n1", 2, gpu: 1)]) { Now = Now };
        Assert.Equal("withgpu", Assert.Single(Policy.Plan(view).OfType<PreemptAction>()).ExecutorId);
    }

    [Fact]
    public void PreemptedToBeReleased_IsReleasedOnceIdle_NotGivenToAnotherSession_AndItsRoomGoesToTheLargerExecutor()
    {
        var big = new ResourceRequirement { Cpu = 2 };
        // A 3-core node: two one-core executors of "low" and one free core; "high" needs a two-core executor.
        var high = Session("high", 1, priority: 5, req: big);
        var low = Session("low", 0, running: 2);
        var start = new ClusterView([high, low], [Bound("e0", "n1", "low"), Bound("e1", "n1", "low")], [Node("n1", 3)]) { Now = Now };
        var preempt = Assert.Single(Policy.Plan(start).OfType<PreemptAction>());
        Assert.True(preempt.Release, $"{preempt.ExecutorId} is too small for high: it must be released, not rebound");

        // It has left low and is idle; another session wants executors too.
        var idle = new ClusterView([high, low, Session("other", 3)],
            [new ExecutorInfo { Id = preempt.ExecutorId, Node = "n1", State = ExecutorState.Idle }, Bound("e9", "n1", "low")], [Node("n1", 3)])
        {
            Now = Now,
            Preemptions = [new Preemption(preempt.ExecutorId, "low", "high", Now - 1_000, Release: true)],
        };
        var actions = Policy.Plan(idle);
        var release = Assert.IsType<ReleaseAction>(Assert.Single(actions, a => a is ReleaseAction));
        Assert.Equal((preempt.ExecutorId, "high"), (release.ExecutorId, release.ForSession));
        Assert.Contains("make room on node 'n1' for a larger executor of high", release.Reason);
        Assert.DoesNotContain(actions, a => a is BindAction b && b.ExecutorId == preempt.ExecutorId);

        // Gone: its core and the free one make high's two-core executor.
        var freed = new ClusterView([high, low], [Bound("e9", "n1", "low")], [Node("n1", 3)]) { Now = Now };
        var create = Assert.IsType<CreateExecutorAction>(Assert.Single(Policy.Plan(freed)));
        Assert.Equal(("n1", "high", 2UL), (create.Node, create.SessionId, create.ResReq.Cpu));
    }

    [Fact]
    public void WhileAPreemptedExecutorIsReleasing_ItsRoomAndTheNodesFreePartStayTheTakers()
    {
        var high = Session("high", 1, priority: 5, req: new ResourceRequirement { Cpu = 2 });
        var releasing = new ExecutorInfo { Id = "e0", Node = "n1", State = ExecutorState.Releasing };
        var view = new ClusterView([high, Session("low", 0, running: 1), Session("other", 3)],
            [releasing, Bound("e9", "n1", "low")], [Node("n1", 3)])
        {
            Now = Now,
            Preemptions = [new Preemption("e0", "low", "high", Now - 1_000, Release: true)],
        };
        var actions = Policy.Plan(view);
        // Not the free core to "other", and no second preemption for high.
        Assert.DoesNotContain(actions, a => a is CreateExecutorAction { Node: "n1" });
        Assert.DoesNotContain(actions, a => a is PreemptAction);
    }

    [Fact]
    public void PreemptedToBeReleased_StaysIdle_WhenItsSessionNoLongerWantsIt()
    {
        var view = new ClusterView([Session("high", 0, priority: 5), Session("other", 1)],
            [new ExecutorInfo { Id = "e0", Node = "n1", State = ExecutorState.Idle }], [Node("n1", 1)])
        {
            Now = Now,
            Preemptions = [new Preemption("e0", "low", "high", Now - 1_000, Release: true)],
        };
        var bind = Assert.IsType<BindAction>(Assert.Single(Policy.Plan(view)));
        Assert.Equal(("e0", "other"), (bind.ExecutorId, bind.SessionId));
    }

    // ---- Shim matching ------------------------------------------------------------------------------------------

    private static NodeInfo NodeRunning(string name, int cores, params Shim[] shims) => Node(name, cores) with { Shims = shims };

    private static SessionDemand WasmSession(string id, int pending, uint priority = 0) => Session(id, pending, priority) with { Shim = Shim.Wasm };

    private static ExecutorInfo Idle(string id, string node) => new() { Id = id, Node = node, State = ExecutorState.Idle };

    [Fact]
    public void ASessionWhoseShimNoNodeRuns_GetsNoExecutor_AndIsReported()
    {
        // A node of Flame's executor manager names no shim: it runs Host only, idle executor included.
        var view = new ClusterView([WasmSession("w", 3)], [Idle("e1", "n1")], [Node("n1", 4)]);

        var wait = Assert.IsType<NoNodeForShimAction>(Assert.Single(Policy.Plan(view)));

        Assert.Equal(("w", Shim.Wasm), (wait.SessionId, wait.Shim));
        Assert.Contains("no node runs shim Wasm", wait.Reason);
    }

    [Fact]
    public void NewExecutors_GoOnlyToNodesThatRunTheSessionsShim_EvenWithMoreRoomElsewhere()
    {
        var view = new ClusterView([WasmSession("w", 3), Session("h", 1)], [],
            [NodeRunning("host", 8, Shim.Host), NodeRunning("wasm", 2, Shim.Wasm)]);

        var creates = Policy.Plan(view).Select(a => Assert.IsType<CreateExecutorAction>(a)).ToList();

        Assert.Equal(["host", "wasm", "wasm"], creates.Select(c => c.Node).Order());
        Assert.All(creates.Where(c => c.SessionId == "w"), c => Assert.Equal(("wasm", Shim.Wasm), (c.Node, c.Shim)));
        Assert.Equal("host", Assert.Single(creates, c => c.SessionId == "h").Node);
    }

    [Fact]
    public void IdleExecutors_AreBoundOnlyToSessionsWhoseShimTheirNodeRuns()
    {
        // e1 sorts first and would be taken first, but its node runs Host only.
        var view = new ClusterView([WasmSession("w", 1)], [Idle("e1", "host"), Idle("e2", "both")],
            [NodeRunning("host", 2, Shim.Host), NodeRunning("both", 1, Shim.Host, Shim.Wasm)]);

        var bind = Assert.IsType<BindAction>(Assert.Single(Policy.Plan(view)));

        Assert.Equal(("e2", "w"), (bind.ExecutorId, bind.SessionId));
    }

    [Fact]
    public void ASessionWhoseShimRunsOnlyOnANodeThatIsNotReady_WaitsWithoutBeingReported()
    {
        var view = new ClusterView([WasmSession("w", 1)], [],
            [Node("host", 4), NodeRunning("wasm", 2, Shim.Wasm) with { State = NodeState.NotReady }]);

        Assert.Empty(Policy.Plan(view));
    }

    [Fact]
    public void Preempt_TakesOnlyExecutorsOnNodesThatRunTheTakersShim()
    {
        var view = new ClusterView([WasmSession("high", 4, priority: 5), Session("low", 0, priority: 3, running: 3)],
            [Bound("h1", "host", "low"), Bound("h2", "host", "low"), Bound("b1", "both", "low")],
            [NodeRunning("host", 2, Shim.Host), NodeRunning("both", 1, Shim.Host, Shim.Wasm)]) { Now = Now };

        var preempt = Assert.Single(Policy.Plan(view).OfType<PreemptAction>());

        Assert.Equal(("b1", "low", "high"), (preempt.ExecutorId, preempt.FromSession, preempt.ForSession));
    }
}
