using Flame.Grains.Scheduling.Actions;
using Flame.Grains.Scheduling.Plugins;

namespace Flame.Grains.Scheduling;

/// <summary>
/// One session as a pass sees it: its size (from the plugins) and what it holds. A session whose shim no Ready node
/// runs (<paramref name="placeable"/> false) wants nothing: it could not be given an executor.
/// </summary>
internal sealed class SessionEntry(SessionDemand demand, Resources req, double share, bool placeable = true)
{
    public SessionDemand Demand { get; } = demand;
    public string Id => Demand.SessionId;
    public uint Priority => Demand.Priority;
    /// <summary>What one of its executors needs.</summary>
    public Resources Req { get; } = req;
    /// <summary>The dominant share of one of its executors.</summary>
    public double Share { get; } = share;
    public int Desired { get; } = placeable ? InstanceLimits.Desired(demand) : 0;
    public int Floor { get; } = placeable ? InstanceLimits.Floor(demand) : 0;
    /// <summary>Executors serving it, without those being preempted away.</summary>
    public int Have { get; set; }
    /// <summary>Executors being preempted for it, still finishing a task elsewhere.</summary>
    public int Incoming { get; set; }
    /// <summary>What it would hold in the ideal allocation (priority, then min_instances, then DRF).</summary>
    public int Target { get; set; }
    /// <summary>Its executors that may be preempted, oldest binding first.</summary>
    public List<ExecutorInfo>? Preemptible { get; set; }

    public int Held => Have + Incoming;

    public string AllocationReason()
    {
        if (Held < Floor)
            return $"min_instances {Floor}";
        return Held < Target ? DominantResourceFairness.Reason(Held * Share, Target * Share) : "spare capacity";
    }
}

/// <summary>The order in which sessions are served: below min_instances first, then by priority, then by share.</summary>
internal readonly record struct Rank(bool BelowMin, uint Priority, double Share, string Id)
{
    public static readonly IComparer<Rank> Order = Comparer<Rank>.Create((a, b) =>
    {
        var c = b.BelowMin.CompareTo(a.BelowMin);
        if (c == 0)
            c = PriorityOrder.Compare(a.Priority, b.Priority);
        if (c == 0)
            c = DominantResourceFairness.Compare(a.Share, b.Share);
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    });

    public static Rank Of(SessionEntry s, int holding) => new(holding < s.Floor, s.Priority, holding * s.Share, s.Id);
}

/// <summary>
/// The working state of one pass: sessions with their sizes and holdings, idle executors, node capacity and the
/// ideal targets. Built in O((sessions + executors) log n).
/// </summary>
internal sealed class SchedulingPass
{
    public SchedulingPass(ClusterView view, SchedulingOptions options)
    {
        Options = options;
        Now = view.Now;
        Capacity = new NodeCapacity(view.Nodes, view.Executors);
        var drf = new DominantResourceFairness(Capacity.Total);
        var readyShims = 0;
        var knownShims = 0;
        foreach (var node in view.Nodes)
        {
            var mask = ShimMatch.MaskOf(node);
            _nodeShims[node.Name] = mask;
            knownShims |= mask;
            if (node.State == NodeState.Ready)
                readyShims |= mask;
        }
        foreach (var demand in view.Sessions)
        {
            var req = Resources.Of(demand.ResReq);
            var placeable = ShimMatch.Runs(readyShims, demand.Shim);
            Sessions[demand.SessionId] = new SessionEntry(demand, req, drf.ShareOf(req), placeable);
            // Only a shim that no node runs is worth an event: with none Ready (a node restarting) it waits as any other,
            // and with no node at all, every session waits alike.
            if (!placeable && view.Nodes.Count > 0 && !ShimMatch.Runs(knownShims, demand.Shim) && InstanceLimits.Desired(demand) > 0)
                NoNodeForShim.Add(demand);
        }

        var memory = Now == 0 ? long.MaxValue : Now - (long)options.PreemptionMemory.TotalMilliseconds;
        foreach (var p in view.Preemptions)
            if (Now == 0 || p.At >= memory)
                Recent.Add(p);
        var inFlight = new Dictionary<string, Preemption>(StringComparer.Ordinal);
        foreach (var p in Recent)
        {
            inFlight[p.ExecutorId] = p;
            RecentPairs.Add((p.FromSession, p.ForSession));
        }

        // What the ideal may hand out: everything, but what closed sessions still hold to finish their tasks.
        var shareable = Capacity.Total;
        var oldEnough = Now == 0 ? long.MinValue : Now - (long)options.MinBoundTime.TotalMilliseconds;
        foreach (var e in view.Executors)
        {
            if (e.State == ExecutorState.Idle)
            {
                Idle.Add(e);
                continue;
            }
            if (e.State == ExecutorState.Releasing && inFlight.TryGetValue(e.Id, out var released) && released.Release
                && Sessions.TryGetValue(released.ForSession, out var taker) && taker.Held < taker.Desired
                && Capacity.TakeInExchange(e.Node, Resources.Of(e.ResReq), taker.Req, taker.Demand.Shim))
            {
                // Released to make room for the taker's larger executor: until it is gone (its service may take a
                // while to stop) the room stays the taker's, and counts as its, so that nobody else takes the
                // node's free part and no second executor is preempted for the same need.
                taker.Incoming++;
                continue;
            }
            if (e.SessionId is not { } sessionId || !Serves(e.State) || !Sessions.TryGetValue(sessionId, out var session))
                continue;
            if (!session.Demand.Open)
                shareable -= Resources.Of(e.ResReq);
            // Bound since before the preemption: it has not left yet (after leaving, it may have been bound anew).
            if (inFlight.TryGetValue(e.Id, out var p) && p.FromSession == sessionId && (e.BoundAt ?? long.MinValue) <= p.At)
            {
                // Leaving at its next task boundary: it is the other session's already.
                if (Sessions.TryGetValue(p.ForSession, out var to))
                    to.Incoming++;
                continue;
            }
            session.Have++;
            if (e.State == ExecutorState.Bound && (e.BoundAt ?? long.MinValue) <= oldEnough)
                (session.Preemptible ??= []).Add(e);
        }
        foreach (var session in Sessions.Values)
            // Newest first: preemption takes from the end, the executor bound longest ago.
            session.Preemptible?.Sort((a, b) => (b.BoundAt ?? long.MinValue).CompareTo(a.BoundAt ?? long.MinValue) is var c && c != 0 ? c : string.CompareOrdinal(b.Id, a.Id));
        if (Recent.Count > 0)
        {
            var idle = Idle.ToDictionary(e => e.Id, StringComparer.Ordinal);
            foreach (var p in Recent)
                if (idle.TryGetValue(p.ExecutorId, out var e))
                    Reserved.Add((e, p));
        }
        SetTargets(shareable);
    }

    public SchedulingOptions Options { get; }
    public long Now { get; }
    /// <summary>Open sessions with demand whose shim no node of the view runs (they get nothing; their owners are told).</summary>
    public List<SessionDemand> NoNodeForShim { get; } = [];
    // The shims each node of the view runs (ShimMatch masks), Ready or not.
    private readonly Dictionary<string, int> _nodeShims = new(StringComparer.Ordinal);
    public Dictionary<string, SessionEntry> Sessions { get; } = new(StringComparer.Ordinal);
    public NodeCapacity Capacity { get; }
    public List<ExecutorInfo> Idle { get; } = [];
    /// <summary>Idle executors preempted for a session, with the preemption.</summary>
    public List<(ExecutorInfo Executor, Preemption Preemption)> Reserved { get; } = [];
    public List<Preemption> Recent { get; } = [];
    /// <summary>(from, for) of the recent preemptions.</summary>
    public HashSet<(string From, string For)> RecentPairs { get; } = [];

    /// <summary>
    /// The shims <paramref name="executor"/> can run: its node's (an executor manager runs each shim it names for any of
    /// its executors), or the one it registered with when its node is not in the view.
    /// </summary>
    public int ShimsOf(ExecutorInfo executor) =>
        _nodeShims.TryGetValue(executor.Node, out var mask) ? mask : ShimMatch.Mask(executor.Shim);

    /// <summary>Whether <paramref name="executor"/> can serve <paramref name="session"/>: its node runs the session's shim.</summary>
    public bool CanServe(ExecutorInfo executor, SessionEntry session) => ShimMatch.Runs(ShimsOf(executor), session.Demand.Shim);

    /// <summary>Executor states that count as serving a session.</summary>
    public static bool Serves(ExecutorState state) =>
        state is ExecutorState.Void or ExecutorState.Binding or ExecutorState.Bound;

    /// <summary>
    /// Hands out executors one at a time to the first session in <see cref="Rank"/> order that still wants one,
    /// until none wants one or none can take one. <paramref name="take"/> gives one (and counts it) or says it cannot.
    /// </summary>
    public static void Fill(IEnumerable<SessionEntry> sessions, Func<SessionEntry, int> holding, Func<SessionEntry, bool> take)
    {
        var queue = new PriorityQueue<SessionEntry, Rank>(
            sessions.Where(s => holding(s) < s.Desired).Select(s => (s, Rank.Of(s, holding(s)))), Rank.Order);
        while (queue.TryDequeue(out var s, out _))
            if (take(s) && holding(s) < s.Desired)
                queue.Enqueue(s, Rank.Of(s, holding(s)));
    }

    /// <summary>The ideal: the same filling over the cluster's total resources, as if nothing were placed yet.</summary>
    private void SetTargets(Resources shareable)
    {
        var left = shareable;
        Fill(Sessions.Values, s => s.Target, s =>
        {
            if (!NodeCapacity.Fits(left, s.Req))
                return false;
            left -= s.Req;
            s.Target++;
            return true;
        });
    }
}
