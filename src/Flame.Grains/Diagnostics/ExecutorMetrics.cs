using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Flame.Grains.Diagnostics;

/// <summary>The executors active on this silo, read by the <c>flame.executors</c> gauge when it is collected.</summary>
internal static class ExecutorMetrics
{
    private static readonly ConcurrentDictionary<object, Func<ExecutorState?>> Live = new();

    /// <summary>Counts <paramref name="executor"/> while it is active; <paramref name="state"/> is read at collection.</summary>
    public static void Track(object executor, Func<ExecutorState?> state) => Live[executor] = state;

    /// <summary>Stops counting <paramref name="executor"/>.</summary>
    public static void Forget(object executor) => Live.TryRemove(executor, out _);

    internal static IEnumerable<Measurement<long>> Observe()
    {
        var counts = new long[FlameMetrics.ExecutorStateTags.Length];
        foreach (var state in Live.Values)
            if (state() is { } s and not ExecutorState.Released and not ExecutorState.Unknown)
                counts[(int)s]++;
        for (var i = 0; i < counts.Length; i++)
            if ((ExecutorState)i is not (ExecutorState.Released or ExecutorState.Unknown))
                yield return new(counts[i], FlameMetrics.ExecutorStateTags[i]);
    }
}
