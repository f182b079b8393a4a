using Flame.Grains.Scheduling.Plugins;

namespace Flame.Grains.Scheduling.Actions;

/// <summary>
/// The allocation action: hands free capacity to sessions that want more, in <see cref="Rank"/> order (below
/// min_instances first, then higher priority, then smaller dominant share), one executor at a time, so that equal
/// sessions grow in proportion to their demand. An executor preempted for a session goes to it first; then idle
/// executors whose resources cover the session's requirement are bound; then new ones are created on the node
/// with the most room that fits (<see cref="NodeCapacity"/>). It is work-conserving: capacity nobody else can use
/// goes to whoever wants it, even beyond its fair share (preemption takes it back when someone needs it).
/// </summary>
internal static class Allocate
{
    public static void Plan(SchedulingPass pass, List<SchedulingAction> actions)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (executor, p) in pass.Reserved)
            if (pass.Sessions.TryGetValue(p.ForSession, out var s) && s.Held < s.Desired && Resources.Of(executor.ResReq).Covers(s.Req))
            {
                taken.Add(executor.Id);
                s.Have++;
                actions.Add(new BindAction(executor.Id, s.Id, $"preempted for it from {p.FromSession}"));
            }

        var idle = new IdlePool(pass.Idle.Where(e => !taken.Contains(e.Id)));
        SchedulingPass.Fill(pass.Sessions.Values, s => s.Held, s =>
        {
            var reason = s.AllocationReason();
            if (idle.Take(s.Req) is { } executor)
                actions.Add(new BindAction(executor.Id, s.Id, reason));
            else if (pass.Capacity.Place(s.Req) is { } node)
                actions.Add(new CreateExecutorAction(node, s.Id, s.Demand.ResReq ?? new ResourceRequirement { Cpu = (ulong)s.Req.Cpu }, reason));
            else
                return false;
            s.Have++;
            return true;
        });
    }

    /// <summary>Idle executors by size; a session gets the smallest that covers what it needs.</summary>
    private sealed class IdlePool
    {
        private readonly SortedDictionary<Resources, Stack<ExecutorInfo>> _bySize = new(Comparer<Resources>.Create((a, b) =>
        {
            var c = a.Cpu.CompareTo(b.Cpu);
            if (c == 0)
                c = a.Memory.CompareTo(b.Memory);
            return c != 0 ? c : a.Gpu.CompareTo(b.Gpu);
        }));

        public IdlePool(IEnumerable<ExecutorInfo> idle)
        {
            // Lowest id on top, for deterministic plans.
            foreach (var e in idle.OrderByDescending(e => e.Id, StringComparer.Ordinal))
            {
                var size = Resources.Of(e.ResReq);
                if (!_bySize.TryGetValue(size, out var stack))
                    _bySize[size] = stack = new Stack<ExecutorInfo>();
                stack.Push(e);
            }
        }

        public ExecutorInfo? Take(Resources req)
        {
            // Few distinct sizes exist, so this walk is short.
            foreach (var (size, stack) in _bySize)
            {
                if (!size.Covers(req))
                    continue;
                var e = stack.Pop();
                if (stack.Count == 0)
                    _bySize.Remove(size);
                return e;
            }
            return null;
        }
    }
}
