using Flame.Grains.Scheduling;
using Flame.Grains.Scheduling.Actions;
using Flame.Grains.Scheduling.Plugins;

namespace Flame.Grains.Tests;

public sealed class SchedulingPolicyTests
{
    private static readonly SchedulingPolicy Policy = new();

    private static NodeInfo Node(string name, int slots, NodeState state = NodeState.Ready) => new()
    {
        Name = name,
        State = state,
        Allocatable = new ResourceRequirement { Cpu = (ulong)slots },
    };

    private static SessionDemand Session(string id, int pending, uint priority = 0, uint min = 0, uint? max = null, bool open = true) => new()
    {
        SessionId = id,
        Application = "app",
        Pending = pending,
        Priority = priority,
        MinInstances = min,
        MaxInstances = max,
        Open = open,
    };

    private static ExecutorInfo Executor(string id, string node, ExecutorState state, string? session = null) =>
        new() { Id = id, Node = node, State = state, SessionId = session };

    private static Dictionary<string, int> Grants(IEnumerable<SchedulingAction> actions) => actions
        .Select(a => a switch { BindAction b => b.SessionId, CreateExecutorAction c => c.SessionId, _ => null }).OfType<string>()
        .GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void IdleExecutors_AreBoundBeforeNewOnesAreCreated()
    {
        var view = new ClusterView(
            [Session("s1", pending: 3)],
            [Executor("e1", "n1", ExecutorState.Idle)],
            [Node("n1", slots: 4)]);
        var actions = Policy.Plan(view);
        Assert.IsType<BindAction>(actions[0]);
        Assert.Equal("e1", ((BindAction)actions[0]).ExecutorId);
        Assert.Equal(2, actions.OfType<CreateExecutorAction>().Count());
    }

    [Fact]
    public void IdleExecutors_GoFirstToASessionOfTheApplicationTheyLastServed()
    {
        // e1 sorts first and would be taken first; e2's service of "render" may still run on its node.
        var view = new ClusterView(
            [Session("s1", pending: 1) with { Application = "render" }],
            [Executor("e1", "n1", ExecutorState.Idle) with { Application = "train" },
             Executor("e2", "n1", ExecutorState.Idle) with { Application = "render" },
             Executor("e3", "n1", ExecutorState.Idle)],
            [Node("n1", slots: 4)]);
        var bind = Assert.IsType<BindAction>(Assert.Single(Policy.Plan(view)));
        Assert.Equal("e2", bind.ExecutorId);
        Assert.Contains("last served application 'render'", bind.Reason);
    }

    [Fact]
    public void AmongIdleExecutorsOfItsApplication_ASessionGetsTheSmallestThatCovers()
    {
        var view = new ClusterView(
            [Session("s1", pending: 1) with { Application = "render" }],
            [Executor("e1", "n1", ExecutorState.Idle) with { Application = "render", ResReq = new ResourceRequirement { Cpu = 4 } },
             Executor("e2", "n1", ExecutorState.Idle) with { Application = "render", ResReq = new ResourceRequirement { Cpu = 1 } }],
            [Node("n1", slots: 8)]);
        Assert.Equal("e2", Assert.IsType<BindAction>(Assert.Single(Policy.Plan(view))).ExecutorId);
    }

    [Fact]
    public void AnIdleExecutorTakenForItsApplication_IsNotGivenAgainBySize()
    {
        // Both sessions want one executor; each of the two idle ones is handed out once.
        var view = new ClusterView(
            [Session("s1", pending: 1) with { Application = "render" }, Session("s2", pending: 1) with { Application = "other" }],
            [Executor("e1", "n1", ExecutorState.Idle) with { Application = "render" },
             Executor("e2", "n1", ExecutorState.Idle)],
            [Node("n1", slots: 2)]);
        var binds = Policy.Plan(view).OfType<BindAction>().ToList();
        Assert.Equal(2, binds.Count);
        Assert.Equal(["e1", "e2"], binds.Select(b => b.ExecutorId).Order());
        Assert.Equal("e1", binds.Single(b => b.SessionId == "s1").ExecutorId);
    }

    [Fact]
    public void Nodes_AreNeverAskedForMoreExecutorsThanTheirSlots()
    {
        var view = new ClusterView(
            [Session("s1", pending: 100)],
            [Executor("e1", "n1", ExecutorState.Bound, "s1")],
            [Node("n1", slots: 2), Node("n2", slots: 3), Node("n3", slots: 5, NodeState.NotReady)]);
        var creates = Policy.Plan(view).OfType<CreateExecutorAction>().ToList();
        Assert.Single(creates, c => c.Node == "n1");
        Assert.Equal(3, creates.Count(c => c.Node == "n2"));
        Assert.DoesNotContain(creates, c => c.Node == "n3");
    }

    [Fact]
    public void MaxInstances_IsNeverExceeded_AndDemandIsNotOverserved()
    {
        var view = new ClusterView(
            [Session("capped", pending: 50, max: 2), Session("small", pending: 1)],
            [Executor("e0", "n1", ExecutorState.Bound, "capped")],
            [Node("n1", slots: 20)]);
        var grants = Grants(Policy.Plan(view));
        Assert.Equal(1, grants["capped"]); // 1 bound + 1 = max 2
        Assert.Equal(1, grants["small"]);
    }

    [Fact]
    public void MinInstances_AreKept_WithoutPendingWork()
    {
        var view = new ClusterView([Session("warm", pending: 0, min: 2)], [], [Node("n1", slots: 4)]);
        Assert.Equal(2, Grants(Policy.Plan(view))["warm"]);
    }

    [Fact]
    public void ClosedSessions_GetNoNewExecutors()
    {
        var view = new ClusterView([Session("closed", pending: 5, open: false)], [], [Node("n1", slots: 4)]);
        Assert.Empty(Policy.Plan(view));
    }

    [Fact]
    public void HigherPriority_IsServedFirst()
    {
        var view = new ClusterView(
            [Session("low", pending: 10, priority: 1), Session("high", pending: 10, priority: 5)],
            [],
            [Node("n1", slots: 4)]);
        var grants = Grants(Policy.Plan(view));
        Assert.Equal(4, grants["high"]);
        Assert.False(grants.ContainsKey("low"));
    }

    [Fact]
    public void EqualPrioritySessions_ShareTheSupplyEvenly()
    {
        var view = new ClusterView(
            [Session("a", pending: 100), Session("b", pending: 100), Session("c", pending: 100)],
            [],
            [Node("n1", slots: 9)]);
        var grants = Grants(Policy.Plan(view));
        Assert.Equal([3, 3, 3], grants.Values);
    }

    [Fact]
    public void RandomClusters_NeverOverAllocate()
    {
        var random = new Random(1234);
        for (var round = 0; round < 300; round++)
        {
            var nodes = Enumerable.Range(0, random.Next(1, 5)).Select(i => Node($"n{i}", random.Next(1, 6))).ToList();
            var sessions = Enumerable.Range(0, random.Next(1, 8)).Select(i => Session($"s{i}", random.Next(0, 20),
                priority: (uint)random.Next(0, 3), min: (uint)random.Next(0, 2), max: random.Next(3) == 0 ? (uint)random.Next(1, 4) : null)).ToList();
            var executors = new List<ExecutorInfo>();
            foreach (var node in nodes)
                for (var i = 0; i < random.Next(0, Slots(node) + 1); i++)
                {
                    var session = sessions[random.Next(sessions.Count)];
                    executors.Add(random.Next(2) == 0
                        ? Executor($"{node.Name}-e{i}", node.Name, ExecutorState.Idle)
                        : Executor($"{node.Name}-e{i}", node.Name, ExecutorState.Bound, session.SessionId));
                }
            var actions = Policy.Plan(new ClusterView(sessions, executors, nodes));

            // No slot is used twice, no node gets more than its slots, no idle executor is given twice.
            foreach (var node in nodes)
            {
                var used = executors.Count(e => e.Node == node.Name) + actions.OfType<CreateExecutorAction>().Count(c => c.Node == node.Name);
                Assert.True(used <= Slots(node), $"round {round}: node {node.Name} has {Slots(node)} slots but would run {used}");
            }
            var bound = actions.OfType<BindAction>().Select(b => b.ExecutorId).ToList();
            Assert.Equal(bound.Count, bound.Distinct().Count());
            Assert.All(bound, id => Assert.Equal(ExecutorState.Idle, executors.Single(e => e.Id == id).State));

            // No session ends above its cap or above what it asked for.
            var grants = Grants(actions);
            foreach (var s in sessions)
            {
                var total = executors.Count(e => e.SessionId == s.SessionId) + grants.GetValueOrDefault(s.SessionId);
                if (grants.ContainsKey(s.SessionId))
                    Assert.True(total <= InstanceLimits.Desired(s), $"round {round}: session {s.SessionId} would hold {total} > desired {InstanceLimits.Desired(s)}");
            }
        }
    }

    private static int Slots(NodeInfo node) => (int)Resources.Allocatable(node).Cpu;
}
