using Flame.Grains.Nodes;
using Flame.Grains.Scheduling.Actions;

namespace Flame.Grains.Scheduling.Plugins;

/// <summary>
/// The allocation policy of the execution plane: sessions of higher priority are served first; within
/// one priority, executors are handed out one at a time round-robin to the least-served session, so
/// that sessions share in proportion to what they ask for, up to their demand (pending + running tasks),
/// never above max_instances and, while open, at least min_instances. Idle executors are bound before
/// new ones are created; new ones go to the Ready node with the most free slots.
/// </summary>
public sealed class ProportionalAllocation : IAllocationPolicy
{
    /// <summary>Executor states that count as serving a session.</summary>
    public static bool Serves(ExecutorState state) =>
        state is ExecutorState.Void or ExecutorState.Binding or ExecutorState.Bound;

    public IReadOnlyList<SchedulingAction> Plan(ClusterView view)
    {
        var allocated = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in view.Executors)
            if (e.SessionId is { } s && Serves(e.State))
                allocated[s] = allocated.GetValueOrDefault(s) + 1;

        var wants = new List<Want>();
        foreach (var session in view.Sessions)
        {
            var desired = Desired(session);
            var have = allocated.GetValueOrDefault(session.SessionId);
            if (desired > have)
                wants.Add(new Want(session, have, desired));
        }
        if (wants.Count == 0)
            return [];

        var idle = new Stack<ExecutorInfo>(view.Executors.Where(e => e.State == ExecutorState.Idle).OrderByDescending(e => e.Id, StringComparer.Ordinal));
        var free = FreeSlots(view);
        var actions = new List<SchedulingAction>();

        foreach (var tier in wants.GroupBy(w => w.Session.Priority).OrderByDescending(g => g.Key))
        {
            var members = tier.ToList();
            while (true)
            {
                // The least-served session first (by the share of its desire it has), ties by id for determinism.
                var next = members
                    .Where(w => w.Have < w.Desired)
                    .OrderBy(w => (double)w.Have / w.Desired)
                    .ThenBy(w => w.Session.SessionId, StringComparer.Ordinal)
                    .FirstOrDefault();
                if (next is null)
                    break;
                if (idle.TryPop(out var executor))
                    actions.Add(new BindAction(executor.Id, next.Session.SessionId));
                else if (free.Where(f => f.Value > 0).OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal).FirstOrDefault() is { Key: { } node })
                {
                    free[node]--;
                    actions.Add(new CreateExecutorAction(node, next.Session.SessionId, next.Session.ResReq ?? new ResourceRequirement { Cpu = 1000 }));
                }
                else
                    return actions; // no supply left
                next.Have++;
            }
        }
        return actions;
    }

    /// <summary>How many executors the session should have now.</summary>
    public static int Desired(SessionDemand session)
    {
        if (!session.Open)
            return 0; // a closed session keeps what it has to finish running tasks, but gets no more
        var demand = (long)session.Pending + session.Running;
        var wanted = Math.Max(demand, session.MinInstances);
        if (session.MaxInstances is { } max)
            wanted = Math.Min(wanted, max);
        return (int)Math.Min(wanted, int.MaxValue);
    }

    private static Dictionary<string, int> FreeSlots(ClusterView view)
    {
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in view.Executors)
            if (e.State != ExecutorState.Released)
                used[e.Node] = used.GetValueOrDefault(e.Node) + 1;
        return view.Nodes
            .Where(n => n.State == NodeState.Ready)
            .ToDictionary(n => n.Name, n => Math.Max(0, Slots.Of(n) - used.GetValueOrDefault(n.Name)), StringComparer.Ordinal);
    }

    private sealed class Want(SessionDemand session, int have, int desired)
    {
        public SessionDemand Session { get; } = session;
        public int Have { get; set; } = have;
        public int Desired { get; } = desired;
    }
}
