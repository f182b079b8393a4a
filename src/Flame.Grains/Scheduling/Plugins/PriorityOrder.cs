namespace Flame.Grains.Scheduling.Plugins;

/// <summary>Orders sessions by priority: a session of higher priority is served, and kept, before any of lower priority.</summary>
public static class PriorityOrder
{
    /// <summary>Negative when <paramref name="a"/> goes before <paramref name="b"/>.</summary>
    public static int Compare(uint a, uint b) => b.CompareTo(a);

    /// <summary>The reason recorded when <paramref name="high"/> takes from <paramref name="low"/>.</summary>
    public static string Reason(uint high, uint low) => $"priority {high} > {low}";
}
