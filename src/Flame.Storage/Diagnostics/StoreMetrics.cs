using System.Diagnostics.Metrics;

namespace Flame.Storage.Diagnostics;

/// <summary>The task store's instruments (meter <see cref="MeterName"/>): how long a group commit takes, and how big it is.</summary>
public static class StoreMetrics
{
    /// <summary>The name of the task store's meter: <c>Flame.Storage</c>.</summary>
    public const string MeterName = "Flame.Storage";

    private static readonly Meter Meter = new(MeterName);

    internal static readonly Histogram<double> CommitDuration = Meter.CreateHistogram(
        "flame.store.commit.duration", "s", "One group commit of the task store, retries included.",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    internal static readonly Histogram<long> CommitBatchSize = Meter.CreateHistogram(
        "flame.store.commit.batch_size", "{row}", "Task rows written by one group commit.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] });
}
