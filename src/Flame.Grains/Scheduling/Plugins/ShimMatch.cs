namespace Flame.Grains.Scheduling.Plugins;

/// <summary>
/// Shim matching (Flame's shim plugin): an application's executors run only on nodes whose executor manager runs its
/// shim. A set of shims is a bit mask (one bit per <see cref="Shim"/> value), so that a pass compares sets in O(1).
/// </summary>
public static class ShimMatch
{
    /// <summary>The bit of <paramref name="shim"/>; 0 for a value no node can run.</summary>
    public static int Mask(Shim shim) => shim is >= 0 and < (Shim)31 ? 1 << (int)shim : 0;

    /// <summary>The shims <paramref name="node"/> runs (<see cref="NodeInfo.Runs"/>: none named = Host only).</summary>
    public static int MaskOf(NodeInfo node)
    {
        if (node.Shims.Count == 0)
            return Mask(Shim.Host);
        var mask = 0;
        foreach (var shim in node.Shims)
            mask |= Mask(shim);
        return mask;
    }

    /// <summary>Whether a node that runs <paramref name="mask"/> runs <paramref name="shim"/>.</summary>
    public static bool Runs(int mask, Shim shim) => (mask & Mask(shim)) != 0;

    /// <summary>Why a session of <paramref name="shim"/> gets no executor.</summary>
    public static string Reason(Shim shim) =>
        $"no node runs shim {shim}: the session's tasks stay Pending until a node that runs it registers";
}
