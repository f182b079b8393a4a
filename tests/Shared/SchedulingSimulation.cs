using Flame.Grains.Scheduling;
using Flame.Grains.Scheduling.Actions;
using Flame.Grains.Scheduling.Plugins;

namespace Flame.Testing;

/// <summary>
/// A cluster that carries out scheduling plans at once, the way the grains would: binds and creates take effect
/// immediately (checked: only idle executors are bound or released, only nodes with room create), preemptions are
/// remembered and the executor leaves its session when the caller says its task ended.
/// </summary>
public sealed class ClusterModel(IEnumerable<NodeInfo> nodes, SchedulingOptions? options = null)
{
    private readonly SchedulingOptions _options = options ?? new SchedulingOptions();
    private int _created;

    public Dictionary<string, NodeInfo> Nodes { get; } = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
    public SortedDictionary<string, ExecutorInfo> Executors { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, SessionDemand> Sessions { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, Preemption> Preemptions { get; } = new(StringComparer.Ordinal);
    /// <summary>Executors preempted and not yet out of their session.</summary>
    public HashSet<string> Leaving { get; } = new(StringComparer.Ordinal);

    public ClusterView View(long now) => new(Sessions.Values.ToList(), Executors.Values.ToList(), Nodes.Values.ToList())
    {
        Now = now,
        Preemptions = Preemptions.Values.Where(p => now - p.At <= _options.PreemptionMemory.TotalMilliseconds).ToList(),
    };

    /// <summary>Executors bound to <paramref name="sessionId"/>.</summary>
    public int Held(string sessionId) => Executors.Values.Count(e => e.SessionId == sessionId);

    public void Apply(IEnumerable<SchedulingAction> actions, long now)
    {
        foreach (var action in actions)
            switch (action)
            {
                case BindAction bind:
                    var idle = Executors[bind.ExecutorId];
                    if (idle.State != ExecutorState.Idle)
                        throw new InvalidOperationException($"bind of {bind.ExecutorId}, which is {idle.State}");
                    Executors[idle.Id] = idle with { State = ExecutorState.Bound, SessionId = bind.SessionId, BoundAt = now };
                    break;
                case CreateExecutorAction create:
                    var free = Free(create.Node);
                    if (!free.Covers(Resources.Of(create.ResReq)))
                        throw new InvalidOperationException($"node {create.Node} has {free}, asked for {Resources.Of(create.ResReq)}");
                    var id = $"{create.Node}-x{++_created}";
                    Executors[id] = new ExecutorInfo
                    {
                        Id = id, Node = create.Node, ResReq = create.ResReq, State = ExecutorState.Bound, SessionId = create.SessionId, BoundAt = now,
                    };
                    break;
                case PreemptAction preempt:
                    if (Executors[preempt.ExecutorId] is not { State: ExecutorState.Bound } victim || victim.SessionId != preempt.FromSession)
                        throw new InvalidOperationException($"preemption of {preempt.ExecutorId}, which is not bound to {preempt.FromSession}");
                    if (!Leaving.Add(preempt.ExecutorId))
                        throw new InvalidOperationException($"{preempt.ExecutorId} preempted twice");
                    Preemptions[preempt.ExecutorId] = new Preemption(preempt.ExecutorId, preempt.FromSession, preempt.ForSession, now, preempt.Release);
                    break;
                case ReleaseAction release:
                    // As the grains do: only an idle executor is released, and its room is free at once.
                    if (Executors[release.ExecutorId] is not { State: ExecutorState.Idle })
                        throw new InvalidOperationException($"release of {release.ExecutorId}, which is not idle");
                    Executors.Remove(release.ExecutorId);
                    Preemptions.Remove(release.ExecutorId);
                    break;
            }
    }

    /// <summary>The executor leaves its session (its task ended, or it has no more work).</summary>
    public void Unbind(string executorId)
    {
        Leaving.Remove(executorId);
        // Idle, and reserved for the session it was preempted for: the next plan binds it there or releases it.
        Executors[executorId] = Executors[executorId] with { State = ExecutorState.Idle, SessionId = null, BoundAt = null };
    }

    /// <summary>What <paramref name="node"/> has left, by its executors' resources.</summary>
    public Resources Free(string node)
    {
        var free = Resources.Allocatable(Nodes[node]);
        foreach (var e in Executors.Values)
            if (e.Node == node)
                free -= Resources.Of(e.ResReq);
        return free;
    }
}

/// <summary>One session of a simulation: it arrives with all its tasks, each of the same duration.</summary>
public sealed record SimulatedSession(string Id, double Arrival, int Tasks, double TaskSeconds, uint Priority = 0);

/// <summary>What a simulation measured.</summary>
/// <param name="Utilisation">Busy cores over all cores, over the ticks when tasks were waiting.</param>
/// <param name="Jain">Jain's index over the dominant shares of the equal-priority sessions with waiting tasks, averaged over ticks.</param>
/// <param name="MeanWaitOfHighestPriority">The mean wait of the tasks of the highest priority present.</param>
/// <param name="MeanWaitOfLowestPriority">The mean wait of the tasks of the lowest priority present.</param>
/// <param name="PriorityInversions">
/// Executors a plan gave (bound or created) to a session while a session of higher priority still wanted more after
/// that plan.
/// </param>
public sealed record SimulationReport(
    double Utilisation, double Jain, double MeanWaitSeconds, double P99WaitSeconds, double Makespan, int Tasks, int Preemptions, double PlanMillisecondsPerTick,
    double MeanWaitOfHighestPriority = 0, double MeanWaitOfLowestPriority = 0, int PriorityInversions = 0);

/// <summary>
/// A deterministic simulation of the scheduler over time: sessions arrive and finish, tasks of given durations run
/// on N nodes, and each tick the policy plans and its plan is applied (preemptions at task boundaries).
/// </summary>
public static class SchedulingSimulation
{
    /// <summary><paramref name="count"/> equal sessions arriving over <paramref name="spreadSeconds"/>, seeded.</summary>
    public static List<SimulatedSession> RandomSessions(int seed, int count, double spreadSeconds, int priorities = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => new SimulatedSession($"s{i:D3}", Math.Round(random.NextDouble() * spreadSeconds), random.Next(100, 400), random.Next(2, 9), (uint)random.Next(priorities)))
            .OrderBy(s => s.Arrival).ToList();
    }

    public static SimulationReport Run(int nodes, int coresPerNode, IReadOnlyList<SimulatedSession> sessions, SchedulingOptions? options = null, double tick = 1.0)
    {
        var policy = new SchedulingPolicy(options);
        var model = new ClusterModel(Enumerable.Range(0, nodes).Select(i => new NodeInfo
        {
            Name = $"n{i:D3}", State = NodeState.Ready, Allocatable = new ResourceRequirement { Cpu = (ulong)coresPerNode },
        }), options);
        var cores = nodes * coresPerNode;
        var byId = sessions.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var remaining = new Dictionary<string, double>(StringComparer.Ordinal); // executor -> seconds left of its task
        var waits = new List<double>();
        var waitsByPriority = new SortedDictionary<uint, List<double>>();
        int next = 0, preemptions = 0, inversions = 0;
        double busyUnderBacklog = 0, backlogTicks = 0, jainSum = 0, jainTicks = 0, t = 0, planMs = 0;
        long ticks = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        while (next < sessions.Count || model.Sessions.Count > 0)
        {
            if (t > 10_000_000)
                throw new InvalidOperationException($"the simulation does not end: {model.Sessions.Count} sessions left at {t}s");
            for (; next < sessions.Count && sessions[next].Arrival <= t; next++)
                model.Sessions[sessions[next].Id] = new SessionDemand
                {
                    SessionId = sessions[next].Id, Application = "sim", Pending = sessions[next].Tasks, Priority = sessions[next].Priority, Open = true,
                };
            foreach (var id in remaining.Keys.ToList())
                if ((remaining[id] -= tick) <= 1e-9)
                {
                    remaining.Remove(id);
                    var s = model.Sessions[model.Executors[id].SessionId!];
                    model.Sessions[s.SessionId] = s with { Running = s.Running - 1 };
                }
            StartTasks();
            foreach (var s in model.Sessions.Values.Where(s => s.Pending == 0 && s.Running == 0).ToList())
                model.Sessions.Remove(s.SessionId);

            var started = clock.Elapsed;
            var plan = policy.Plan(model.View(Ms(t)));
            planMs += (clock.Elapsed - started).TotalMilliseconds;
            preemptions += plan.Count(a => a is PreemptAction);
            model.Apply(plan, Ms(t));
            inversions += Inversions(plan);
            StartTasks();
            // Idle executors are dropped at once: a simplification; with one size of executor, rebinding is as good.
            foreach (var idle in model.Executors.Values.Where(e => e.State == ExecutorState.Idle).ToList())
                model.Executors.Remove(idle.Id);

            Measure();
            t += tick;
            ticks++;
        }
        waits.Sort();
        return new SimulationReport(
            backlogTicks == 0 ? 1 : busyUnderBacklog / backlogTicks,
            jainTicks == 0 ? 1 : jainSum / jainTicks,
            waits.Count == 0 ? 0 : waits.Average(),
            waits.Count == 0 ? 0 : waits[Math.Min(waits.Count - 1, (int)Math.Ceiling(0.99 * waits.Count) - 1)],
            t, waits.Count, preemptions, planMs / Math.Max(1, ticks),
            waitsByPriority.Count == 0 ? 0 : waitsByPriority.Last().Value.Average(),
            waitsByPriority.Count == 0 ? 0 : waitsByPriority.First().Value.Average(),
            inversions);

        int Inversions(IReadOnlyList<SchedulingAction> plan)
        {
            var wanting = model.Sessions.Values.Where(s => s.Open && model.Held(s.SessionId) < InstanceLimits.Desired(s)).ToList();
            return plan.Count(a => (a switch { BindAction b => b.SessionId, CreateExecutorAction c => c.SessionId, _ => null }) is { } to
                && wanting.Any(h => h.Priority > model.Sessions[to].Priority));
        }

        // Executors without a task take the next one of their session, or leave it (preempted, or nothing to do).
        void StartTasks()
        {
            foreach (var e in model.Executors.Values.Where(e => e.State == ExecutorState.Bound && !remaining.ContainsKey(e.Id)).ToList())
            {
                var s = model.Sessions[e.SessionId!];
                if (model.Leaving.Contains(e.Id) || s.Pending == 0)
                {
                    model.Unbind(e.Id);
                    continue;
                }
                model.Sessions[s.SessionId] = s with { Pending = s.Pending - 1, Running = s.Running + 1 };
                remaining[e.Id] = byId[s.SessionId].TaskSeconds;
                waits.Add(t - byId[s.SessionId].Arrival);
                if (!waitsByPriority.TryGetValue(s.Priority, out var ofPriority))
                    waitsByPriority[s.Priority] = ofPriority = [];
                ofPriority.Add(t - byId[s.SessionId].Arrival);
            }
        }

        void Measure()
        {
            var backlogged = model.Sessions.Values.Where(s => s.Pending > 0).ToList();
            if (backlogged.Count == 0)
                return;
            backlogTicks++;
            busyUnderBacklog += (double)remaining.Count / cores;
            foreach (var tier in backlogged.GroupBy(s => s.Priority))
            {
                var shares = tier.Select(s => (double)s.Running).ToList();
                if (shares.Count < 2 || shares.Sum() == 0)
                    continue;
                jainSum += shares.Sum() * shares.Sum() / (shares.Count * shares.Sum(x => x * x));
                jainTicks++;
            }
        }
    }

    private static long Ms(double seconds) => 1_000_000 + (long)(seconds * 1000);
}
