using System.Diagnostics.Metrics;

namespace Flame.ExecutorManager.Diagnostics;

/// <summary>The executor manager's instruments (meter <see cref="MeterName"/>).</summary>
public static class ExecutorManagerMetrics
{
    /// <summary>The name of the executor manager's meter: <c>Flame.ExecutorManager</c>.</summary>
    public const string MeterName = "Flame.ExecutorManager";

    private static readonly Meter Meter = new(MeterName);

    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    };

    internal static readonly Counter<long> ServicesStarted = Meter.CreateCounter<long>(
        "flame.services.started", "{service}", "Service processes started, by application.");

    internal static readonly Histogram<double> ServiceStartDuration = Meter.CreateHistogram(
        "flame.service.start.duration", "s", "From launching a service process to its answering, by application.", advice: Seconds);

    internal static readonly Histogram<double> TaskInvokeDuration = Meter.CreateHistogram(
        "flame.task.invoke.duration", "s", "One task on its service, from the executor's side (OnTaskInvoke or the task stream).", advice: Seconds);
}
