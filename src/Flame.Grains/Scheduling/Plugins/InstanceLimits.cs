namespace Flame.Grains.Scheduling.Plugins;

/// <summary>
/// Sizes a session: how many executors it should have (its demand, raised to min_instances, capped by
/// max_instances, which already merges the session's and the application's caps) and how few it may be left with.
/// </summary>
public static class InstanceLimits
{
    /// <summary>How many executors the session should have now: none once closed.</summary>
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

    /// <summary>The executors an open session keeps whatever its demand: min_instances (within max_instances).</summary>
    public static int Floor(SessionDemand session) =>
        session.Open ? (int)Math.Min(Math.Min(session.MinInstances, session.MaxInstances ?? uint.MaxValue), int.MaxValue) : 0;
}
