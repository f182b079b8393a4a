using Flame.Grains.Scheduling;
using Flame.Grains.Scheduling.Actions;
using Flame.Grains.Scheduling.Plugins;

namespace Flame.Grains.Tests;

/// <summary>
/// Properties of the scheduling policy over many random clusters (seeded, so a failure names its round and
/// replays): one plan never over-commits nor breaks a limit; applying plans again and again converges to a fair,
/// priority-respecting allocation without moving executors back and forth.
/// </summary>
public sealed class SchedulingPropertyTests
{
    private const int Clusters = 500;
    private const long Start = 1_000_000;
    private static readonly SchedulingPolicy Policy = new();
    private static readonly ResourceRequirement?[] Shapes =
        [null, new() { Cpu = 1 }, new() { Cpu = 2, Memory = 4UL << 30 }, new() { Cpu = 1, Gpu = 1 }, new() { Cpu = 0, Memory = 1UL << 30 }];

    [Fact]
    public void OnePlan_NeverOverCommitsANode_NorBreaksALimit()
    {
        for (var round = 0; round < Clusters; round++)
        {
            var model = RandomCluster(new Random(round), mixedShapes: true);
            var view = model.View(Start);
            var plan = Policy.Plan(view);
            model.Apply(plan, Start); // throws on binding a busy executor, creating where it does not fit, preempting twice

            foreach (var node in model.Nodes.Keys)
                Assert.True(model.Free(node) is { Cpu: >= 0, Memory: >= 0, Gpu: >= 0 }, $"round {round}: node {node} over-committed: {model.Free(node)}");
            var executorsOnce = plan.Select(a => a switch { BindAction b => b.ExecutorId, PreemptAction p => p.ExecutorId, _ => null }).OfType<string>().ToList();
            Assert.True(executorsOnce.Count == executorsOnce.Distinct().Count(), $"round {round}: an executor is in two actions");
            foreach (var s in view.Sessions)
            {
                var held = model.Held(s.SessionId);
                var got = plan.Count(a => a is BindAction b && b.SessionId == s.SessionId || a is CreateExecutorAction c && c.SessionId == s.SessionId);
                if (got > 0)
                    Assert.True(held <= InstanceLimits.Desired(s), $"round {round}: {s.SessionId} holds {held} > desired {InstanceLimits.Desired(s)}");
            }
            foreach (var p in plan.OfType<PreemptAction>())
            {
                var from = view.Sessions.Single(s => s.SessionId == p.FromSession);
                var to = view.Sessions.Single(s => s.SessionId == p.ForSession);
                var victim = view.Executors.Single(e => e.Id == p.ExecutorId);
                Assert.True(from.Priority <= to.Priority, $"round {round}: {p} takes from a higher priority");
                Assert.True(Start - victim.BoundAt >= 10_000, $"round {round}: {p} takes an executor bound {Start - victim.BoundAt} ms ago");
                Assert.True(model.Held(from.SessionId) - plan.OfType<PreemptAction>().Count(q => q.FromSession == from.SessionId) >= InstanceLimits.Floor(from),
                    $"round {round}: {p} leaves {from.SessionId} below min_instances");
                Assert.False(string.IsNullOrEmpty(p.Reason));
            }
            Assert.All(plan, a => Assert.False(string.IsNullOrEmpty(a.Reason)));
        }
    }

    [Fact]
    public void RepeatedPlans_Converge_WithoutMovingExecutorsBackAndForth()
    {
        for (var round = 0; round < Clusters; round++)
        {
            var (model, passes, moves) = Converge(round, mixedShapes: true);
            Assert.True(passes < MaxPasses, $"round {round}: still planning after {passes} passes of 1 s");
            foreach (var (from, to) in moves)
                Assert.False(moves.Contains((to, from)), $"round {round}: executors moved both ways between {from} and {to}");
            // Priority and min at rest are checked with one executor size: with mixed sizes the ideal is an
            // approximation (see the README), and a higher priority may wait behind a differently sized lower one.
            CheckPriorityAndMin(round, Converge(round, mixedShapes: false).Model);
        }
    }

    [Fact]
    public void Converged_SharesAreWithinOneExecutorOfTheDrfIdeal_AndNoSessionStarves()
    {
        for (var round = 0; round < Clusters; round++)
        {
            var (model, _, _) = Converge(round, mixedShapes: false);
            // Closed sessions keep what they hold (to finish running tasks); the rest is shared.
            var slots = model.Nodes.Values.Where(n => n.State == NodeState.Ready).Sum(n => (int)Resources.Allocatable(n).Cpu)
                - model.Sessions.Values.Where(s => !s.Open).Sum(s => model.Held(s.SessionId));
            var ideal = Ideal(model.Sessions.Values, slots);
            foreach (var s in model.Sessions.Values.Where(s => s.Open))
            {
                var held = model.Held(s.SessionId);
                Assert.True(Math.Abs(held - ideal[s.SessionId]) <= 1,
                    $"round {round}: {s.SessionId} (priority {s.Priority}) holds {held}, ideal {ideal[s.SessionId]}; {Describe(model)}");
                // Starving is only wrong when the tier has an executor for each of its sessions (no time slicing).
                if (ideal[s.SessionId] > 0 && model.Sessions.Values.Where(o => o.Open && o.Priority == s.Priority).All(o => ideal[o.SessionId] > 0 || InstanceLimits.Desired(o) == 0))
                    Assert.True(held > 0, $"round {round}: {s.SessionId} starves; {Describe(model)}");
            }
        }
    }

    /// <summary>
    /// Plans and applies one pass a second (the scheduler's timer) until the plans have been empty, with no preempted
    /// executor leaving, for longer than the bind-time hysteresis (an empty plan alone may only mean "not yet"). A preempted executor leaves its session only when its task ends, 1 to 30 s later (seeded): long
    /// tasks, so the bind-time hysteresis and preemptions still in flight are part of what must converge.
    /// </summary>
    private static (ClusterModel Model, int Passes, HashSet<(string From, string To)> Moves) Converge(int round, bool mixedShapes)
    {
        var model = RandomCluster(new Random(round), mixedShapes);
        var durations = new Random(-round - 1);
        var leaving = new Dictionary<string, long>(StringComparer.Ordinal); // executor -> when its task ends
        var moves = new HashSet<(string, string)>();
        var passes = 0;
        for (long now = Start, quiet = 0; passes < MaxPasses; now += 1_000, passes++)
        {
            foreach (var (executor, _) in leaving.Where(l => l.Value <= now).ToList())
            {
                model.Unbind(executor);
                leaving.Remove(executor);
            }
            var plan = Policy.Plan(model.View(now));
            quiet = plan.Count == 0 && leaving.Count == 0 ? quiet + 1 : 0;
            if (quiet > QuietPasses)
                break;
            model.Apply(plan, now);
            foreach (var p in plan.OfType<PreemptAction>())
            {
                moves.Add((p.FromSession, p.ForSession));
                leaving[p.ExecutorId] = now + durations.Next(1_000, 30_001);
            }
        }
        return (model, passes, moves);
    }

    /// <summary>Passes (seconds) a random cluster may take to come to rest: the hysteresis (10 s) and tasks of up to 30 s, a few times.</summary>
    private const int MaxPasses = 300;

    /// <summary>Empty passes in a row that mean rest: longer than <c>MinBoundTimeSeconds</c> (10).</summary>
    private const int QuietPasses = 11;

    /// <summary>At rest: no session is short of its min while there is room, and no lower priority keeps what a higher one could use.</summary>
    private static void CheckPriorityAndMin(int round, ClusterModel model)
    {
        var idle = model.Executors.Values.Where(e => e.State == ExecutorState.Idle).Select(e => Resources.Of(e.ResReq)).ToList();
        foreach (var s in model.Sessions.Values.Where(s => s.Open))
        {
            var req = Resources.Of(s.ResReq);
            var held = model.Held(s.SessionId);
            var room = model.Nodes.Keys.Any(n => model.Nodes[n].State == NodeState.Ready && model.Free(n).Covers(req)) || idle.Any(i => i.Covers(req));
            Assert.False(held < InstanceLimits.Floor(s) && room, $"round {round}: {s.SessionId} holds {held} < min {InstanceLimits.Floor(s)} with room left");
            if (held >= InstanceLimits.Desired(s))
                continue;
            Assert.False(room, $"round {round}: {s.SessionId} wants more and there is room; {Describe(model)}");
            // The ideal counts executors at the session's own size; one that was given larger idle executors holds
            // more than the ideal knows (a known approximation, see the README), so the comparison does not apply.
            if (model.Executors.Values.Any(e => e.SessionId == s.SessionId && Resources.Of(e.ResReq) != req))
                continue;
            foreach (var low in model.Sessions.Values.Where(l => l.Open && l.Priority < s.Priority))
            {
                // What low is entitled to is its own size: an idle executor larger than it needs, bound to it, counts as one of its.
                if (!Resources.Of(low.ResReq).Covers(req))
                    continue;
                var covering = model.Executors.Values.Count(e => e.SessionId == low.SessionId && Resources.Of(e.ResReq).Covers(req));
                var spare = model.Held(low.SessionId) - InstanceLimits.Floor(low);
                Assert.False(covering > 0 && spare > 0,
                    $"round {round}: {s.SessionId} (priority {s.Priority}) wants more while {low.SessionId} (priority {low.Priority}) keeps {spare} beyond its min; {Describe(model)}");
            }
        }
    }

    /// <summary>A reference DRF for one-core executors: by priority, then one at a time to the least served.</summary>
    private static Dictionary<string, int> Ideal(IEnumerable<SessionDemand> sessions, int slots)
    {
        var held = sessions.ToDictionary(s => s.SessionId, _ => 0);
        var open = sessions.Where(s => s.Open).ToList();
        foreach (var tier in open.GroupBy(s => s.Priority).OrderByDescending(g => g.Key))
            while (slots > 0 && tier.Where(s => held[s.SessionId] < InstanceLimits.Desired(s)).MinBy(s => held[s.SessionId]) is { } next)
            {
                held[next.SessionId]++;
                slots--;
            }
        return held;
    }

    private static ClusterModel RandomCluster(Random random, bool mixedShapes)
    {
        var nodes = Enumerable.Range(0, random.Next(1, 6)).Select(i => new NodeInfo
        {
            Name = $"n{i}",
            State = random.Next(8) == 0 ? NodeState.NotReady : NodeState.Ready,
            Allocatable = new ResourceRequirement
            {
                Cpu = (ulong)random.Next(1, 9),
                Memory = mixedShapes && random.Next(2) == 0 ? (ulong)random.Next(4, 33) << 30 : 0,
                Gpu = mixedShapes ? random.Next(0, 3) : 0,
            },
        }).ToList();
        var model = new ClusterModel(nodes);
        foreach (var i in Enumerable.Range(0, random.Next(1, 12)))
        {
            uint? max = random.Next(3) == 0 ? (uint)random.Next(1, 6) : null;
            var s = new SessionDemand
            {
                SessionId = $"s{i}", Application = "app", Pending = random.Next(0, 30), Priority = (uint)random.Next(0, 3),
                // Without mins for one size: a min is kept, but does not take from higher priorities, so it is no part of the DRF ideal.
                MinInstances = (uint)(mixedShapes && random.Next(4) == 0 ? random.Next(1, 3) : 0), MaxInstances = max, Open = random.Next(10) != 0,
                ResReq = mixedShapes ? Shapes[random.Next(Shapes.Length)] : null,
            };
            model.Sessions[s.SessionId] = s;
        }
        // Executors already there, placed within capacity and within each session's max, some idle.
        var sessions = model.Sessions.Values.ToList();
        var n = 0;
        foreach (var node in nodes.Where(node => node.State == NodeState.Ready))
            for (var k = random.Next(0, 9); k > 0; k--)
            {
                var s = sessions[random.Next(sessions.Count)];
                var req = s.ResReq;
                if (!model.Free(node.Name).Covers(Resources.Of(req)))
                    break;
                var idle = random.Next(3) == 0 || model.Held(s.SessionId) >= InstanceLimits.Desired(s);
                var id = $"{node.Name}-e{n++}";
                model.Executors[id] = new ExecutorInfo
                {
                    Id = id, Node = node.Name, ResReq = req ?? new ResourceRequirement(),
                    State = idle ? ExecutorState.Idle : ExecutorState.Bound, SessionId = idle ? null : s.SessionId,
                    BoundAt = idle ? null : Start - random.Next(0, 60_000),
                };
            }
        foreach (var s in sessions)
            model.Sessions[s.SessionId] = s with { Running = Math.Min(model.Held(s.SessionId), random.Next(0, 5)) };
        return model;
    }

    private static string Describe(ClusterModel model) =>
        string.Join(", ", model.Sessions.Values.Select(s =>
            $"{s.SessionId}(p{s.Priority} pend {s.Pending} run {s.Running} min {s.MinInstances} max {s.MaxInstances?.ToString() ?? "-"}{(s.Open ? "" : " closed")}) holds {model.Held(s.SessionId)}"))
        + "; free " + string.Join(", ", model.Nodes.Keys.Select(n => $"{n}: {model.Free(n)}"));
}
