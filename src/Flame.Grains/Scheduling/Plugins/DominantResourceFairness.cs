using System.Globalization;

namespace Flame.Grains.Scheduling.Plugins;

/// <summary>
/// Dominant resource fairness: a session's share is the largest fraction of any cluster resource (CPU, memory,
/// GPU, against the Ready nodes' total allocatable) that its executors hold; among sessions of equal priority
/// the one of smallest share is served next, which hands out executors in proportion to demand, each capped by it.
/// </summary>
public sealed class DominantResourceFairness(Resources total)
{
    /// <summary>The dominant share of one executor of <paramref name="req"/>; infinite when the cluster lacks a resource it needs.</summary>
    public double ShareOf(Resources req)
    {
        var share = Fraction(req.Cpu, total.Cpu);
        if (total.Memory != Resources.Unlimited)
            share = Math.Max(share, Fraction(req.Memory, total.Memory));
        return Math.Max(share, Fraction(req.Gpu, total.Gpu));
    }

    /// <summary>Negative when the share <paramref name="a"/> is served before <paramref name="b"/>.</summary>
    public static int Compare(double a, double b) => a.CompareTo(b);

    /// <summary>The reason recorded when a session under its fair share is served.</summary>
    public static string Reason(double share, double fair) =>
        string.Create(CultureInfo.InvariantCulture, $"share {share:0.###} below fair {fair:0.###}");

    private static double Fraction(long amount, long of) =>
        amount <= 0 ? 0 : of <= 0 ? double.PositiveInfinity : (double)amount / of;
}
