using Flame.Grains.Scheduling.Plugins;

namespace Flame.Grains.Scheduling.Actions;

/// <summary>
/// The allocation action: hands free capacity to sessions that want more, in <see cref="Rank"/> order (below
/// min_instances first, then higher priority, then smaller dominant share), one executor at a time, so that equal
/// sessions grow in proportion to their demand. An executor preempted for a session goes to it first (or, when it
/// was preempted to be released, is released so that a larger one fits on its node); then idle
/// executors whose resources cover the session's requirement are bound; then new ones are created on the node
/// with the most room that fits (<see cref="NodeCapacity"/>); in each case only where the session's shim runs
/// (<see cref="ShimMatch"/>). It is work-conserving: capacity nobody else can use
/// goes to whoever wants it, even beyond its fair share (preemption takes it back when someone needs it).
/// </summary>
internal static class Allocate
{
    public static void Plan(SchedulingPass pass, List<SchedulingAction> actions)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (executor, p) in pass.Reserved)
        {
            if (!pass.Sessions.TryGetValue(p.ForSession, out var s) || s.Held >= s.Desired)
                continue; // not wanted any more: an idle executor like any other
            if (Resources.Of(executor.ResReq).Covers(s.Req) && pass.CanServe(executor, s))
            {
                taken.Add(executor.Id);
                s.Have++;
                actions.Add(new BindAction(executor.Id, s.Id, $"preempted for it from {p.FromSession}"));
            }
            else if (p.Release && pass.Capacity.TakeInExchange(executor.Node, Resources.Of(executor.ResReq), s.Req, s.Demand.Shim))
            {
                // Too small for it: its room on the node (held for it from now on, so that nobody else takes the
                // node's free part) goes to a larger executor, created once it is released. It counts as the
                // session's meanwhile, so that no second executor is preempted for the same need.
                taken.Add(executor.Id);
                s.Incoming++;
                actions.Add(new ReleaseAction(executor.Id, s.Id,
                    $"preempted from {p.FromSession} to make room on node '{executor.Node}' for a larger executor of {s.Id}"));
            }
        }

        var idle = new IdlePools(pass, pass.Idle.Where(e => !taken.Contains(e.Id)));
        SchedulingPass.Fill(pass.Sessions.Values, s => s.Held, s =>
        {
            var reason = s.AllocationReason();
            if (idle.Take(s.Req, s.Demand.Application, s.Demand.Shim) is { } executor)
            {
                if (executor.Application == s.Demand.Application)
                    reason += $"; it last served application '{s.Demand.Application}', whose service it can reuse";
                actions.Add(new BindAction(executor.Id, s.Id, reason));
            }
            else if (pass.Capacity.Place(s.Req, s.Demand.Shim) is { } node)
                actions.Add(new CreateExecutorAction(node, s.Id, s.Demand.ResReq ?? new ResourceRequirement { Cpu = (ulong)s.Req.Cpu }, reason, s.Demand.Shim));
            else
                return false;
            s.Have++;
            return true;
        });
        foreach (var demand in pass.NoNodeForShim)
            actions.Add(new NoNodeForShimAction(demand.SessionId, demand.Shim, ShimMatch.Reason(demand.Shim)));
    }

    /// <summary>
    /// The idle executors in one <see cref="IdlePool"/> per set of shims their nodes run (nearly always one set: Host);
    /// a session takes from the pools that run its shim.
    /// </summary>
    private sealed class IdlePools
    {
        private readonly List<(int Shims, IdlePool Pool)> _pools = [];

        public IdlePools(SchedulingPass pass, IEnumerable<ExecutorInfo> idle)
        {
            var byShims = new Dictionary<int, List<ExecutorInfo>>();
            foreach (var e in idle)
            {
                var shims = pass.ShimsOf(e);
                if (!byShims.TryGetValue(shims, out var list))
                    byShims[shims] = list = [];
                list.Add(e);
            }
            foreach (var (shims, list) in byShims.OrderBy(p => p.Key))
                _pools.Add((shims, new IdlePool(list)));
        }

        public ExecutorInfo? Take(Resources req, string application, Shim shim)
        {
            foreach (var (shims, pool) in _pools)
                if (ShimMatch.Runs(shims, shim) && pool.TakeWarm(req, application) is { } warm)
                    return warm;
            foreach (var (shims, pool) in _pools)
                if (ShimMatch.Runs(shims, shim) && pool.TakeAny(req) is { } any)
                    return any;
            return null;
        }
    }

    /// <summary>
    /// Idle executors by size; a session gets the smallest one that last served its application and covers what it
    /// needs (its service may still run), else the smallest that covers it.
    /// </summary>
    private sealed class IdlePool
    {
        private static readonly IComparer<Resources> BySize = Comparer<Resources>.Create((a, b) =>
        {
            var c = a.Cpu.CompareTo(b.Cpu);
            if (c == 0)
                c = a.Memory.CompareTo(b.Memory);
            return c != 0 ? c : a.Gpu.CompareTo(b.Gpu);
        });

        private readonly SortedDictionary<Resources, Stack<ExecutorInfo>> _bySize = new(BySize);
        private readonly Dictionary<string, List<ExecutorInfo>> _byApplication = new(StringComparer.Ordinal);
        // An executor sits in both indexes; the one taken from first leaves it in the other, skipped from then on.
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

        public IdlePool(IEnumerable<ExecutorInfo> idle)
        {
            // Lowest id on top (last), for deterministic plans.
            foreach (var e in idle.OrderByDescending(e => e.Id, StringComparer.Ordinal))
            {
                var size = Resources.Of(e.ResReq);
                if (!_bySize.TryGetValue(size, out var stack))
                    _bySize[size] = stack = new Stack<ExecutorInfo>();
                stack.Push(e);
                if (e.Application is { } application)
                {
                    if (!_byApplication.TryGetValue(application, out var warm))
                        _byApplication[application] = warm = [];
                    warm.Add(e);
                }
            }
        }

        /// <summary>The smallest idle executor that last served <paramref name="application"/> and covers <paramref name="req"/>.</summary>
        public ExecutorInfo? TakeWarm(Resources req, string application)
        {
            if (_byApplication.TryGetValue(application, out var warm))
            {
                // Few: the idle executors that last served this application. The smallest that covers the need, so
                // that a large one stays for a session that needs it (lowest id among equals, for deterministic plans).
                var best = -1;
                for (var i = warm.Count - 1; i >= 0; i--)
                {
                    var e = warm[i];
                    if (_taken.Contains(e.Id))
                    {
                        warm.RemoveAt(i);
                        if (best > i)
                            best--;
                        continue;
                    }
                    var size = Resources.Of(e.ResReq);
                    if (size.Covers(req) && (best < 0 || BySize.Compare(size, Resources.Of(warm[best].ResReq)) < 0))
                        best = i;
                }
                if (best >= 0)
                {
                    var e = warm[best];
                    warm.RemoveAt(best);
                    _taken.Add(e.Id);
                    return e;
                }
            }
            return null;
        }

        /// <summary>The smallest idle executor that covers <paramref name="req"/>.</summary>
        public ExecutorInfo? TakeAny(Resources req)
        {
            // Few distinct sizes exist, so this walk is short; entries taken through the other index are dropped.
            List<Resources>? emptied = null;
            ExecutorInfo? found = null;
            foreach (var (size, stack) in _bySize)
            {
                if (!size.Covers(req))
                    continue;
                while (stack.Count > 0 && _taken.Contains(stack.Peek().Id))
                    stack.Pop();
                if (stack.Count > 0)
                {
                    found = stack.Pop();
                    _taken.Add(found.Id);
                }
                if (stack.Count == 0)
                    (emptied ??= []).Add(size);
                if (found is not null)
                    break;
            }
            foreach (var size in emptied ?? [])
                _bySize.Remove(size);
            return found;
        }
    }
}
