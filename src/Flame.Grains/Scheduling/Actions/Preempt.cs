using Flame.Grains.Scheduling.Plugins;

namespace Flame.Grains.Scheduling.Actions;

/// <summary>
/// The preemption (rebalancing) action, planned after <see cref="Allocate"/> when sessions are still below their
/// ideal target for lack of capacity. A starved session takes executors from over-served ones: first from lower
/// priorities ("priority 5 > 3"), then from sessions of its priority whose dominant share, even after giving one
/// executor up, stays at least its own after receiving it ("share 0.25 below fair 0.5"). Hysteresis:
/// <list type="bullet">
/// <item>targets are whole executors, and a move between equal-priority sessions must not invert their shares, so a
/// deficit below one executor never preempts;</item>
/// <item>an executor bound less than <see cref="SchedulingOptions.MinBoundTime"/> ago is left alone;</item>
/// <item>no session is taken below its min_instances, nor below its own target;</item>
/// <item>after a preemption from A for B, nothing is taken from B for A while B has demand
/// (<see cref="SchedulingOptions.PreemptionMemory"/>).</item>
/// </list>
/// Cost: O((sessions + executors) log sessions).
/// </summary>
internal static class Preempt
{
    public static void Plan(SchedulingPass pass, List<SchedulingAction> actions)
    {
        var starved = pass.Sessions.Values.Where(s => s.Held < s.Target).ToList();
        if (starved.Count == 0)
            return;
        starved.Sort((a, b) => Rank.Order.Compare(Rank.Of(a, a.Held), Rank.Of(b, b.Held)));

        // Victims: lowest priority first, then the largest share left after giving one up.
        var victims = new PriorityQueue<SessionEntry, (uint Priority, double ShareAfter, string Id)>(
            pass.Sessions.Values.Where(CanGive).Select(v => (v, Key(v))), VictimOrder);
        var setAside = new List<SessionEntry>();
        foreach (var s in starved)
        {
            while (s.Held < s.Target && victims.TryPeek(out var v, out _))
            {
                if (v.Priority > s.Priority)
                    break; // the rest are of higher priority still
                victims.Dequeue();
                if (v.Priority == s.Priority && (v.Have - 1) * v.Share < (s.Held + 1) * s.Share)
                {
                    // The best-served of its priority would end below s: so would any other; give up on s.
                    victims.Enqueue(v, Key(v));
                    break;
                }
                if (Thrashes(pass, from: v, forSession: s) || TakeCovering(pass, v, s) is not var (executor, release))
                {
                    setAside.Add(v);
                    continue;
                }
                var reason = v.Priority < s.Priority
                    ? PriorityOrder.Reason(s.Priority, v.Priority)
                    : DominantResourceFairness.Reason(s.Held * s.Share, s.Target * s.Share);
                actions.Add(new PreemptAction(executor.Id, v.Id, s.Id, reason, release));
                v.Have--;
                s.Incoming++;
                if (CanGive(v))
                    victims.Enqueue(v, Key(v));
            }
            foreach (var v in setAside)
                victims.Enqueue(v, Key(v));
            setAside.Clear();
        }
    }

    private static readonly IComparer<(uint Priority, double ShareAfter, string Id)> VictimOrder =
        Comparer<(uint Priority, double ShareAfter, string Id)>.Create((a, b) =>
        {
            var c = a.Priority.CompareTo(b.Priority);
            if (c == 0)
                c = b.ShareAfter.CompareTo(a.ShareAfter);
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        });

    private static (uint, double, string) Key(SessionEntry v) => (v.Priority, (v.Have - 1) * v.Share, v.Id);

    /// <summary>
    /// Over its target and above its floor, with an executor old enough to take. Closed sessions are never taken
    /// from: they only finish their running tasks and then let their executors go.
    /// </summary>
    private static bool CanGive(SessionEntry v) =>
        v.Demand.Open && v.Have > v.Target && v.Have > v.Floor && v.Preemptible is { Count: > 0 };

    private static bool Thrashes(SchedulingPass pass, SessionEntry from, SessionEntry forSession)
    {
        return from.Demand.Pending + from.Demand.Running > 0 && pass.RecentPairs.Contains((forSession.Id, from.Id));
    }

    /// <summary>
    /// Removes and returns the oldest-bound preemptible executor of <paramref name="v"/> that makes room for
    /// <paramref name="taker"/>: by itself (it is then rebound), or released together with its node's free room; on a
    /// node that runs the taker's shim either way.
    /// </summary>
    private static (ExecutorInfo Executor, bool Release)? TakeCovering(SchedulingPass pass, SessionEntry v, SessionEntry taker)
    {
        var list = v.Preemptible!;
        var req = taker.Req;
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var e = list[i];
            if (!pass.CanServe(e, taker))
                continue;
            var size = Resources.Of(e.ResReq);
            var release = !size.Covers(req);
            if (release && !pass.Capacity.TakeInExchange(e.Node, size, req, taker.Demand.Shim))
                continue;
            list.RemoveAt(i);
            return (e, release);
        }
        return null;
    }
}
