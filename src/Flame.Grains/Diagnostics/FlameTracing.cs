using System.Diagnostics;

namespace Flame.Grains.Diagnostics;

/// <summary>
/// The activity source of task traces (<see cref="SourceName"/>): one trace per task, from its creation through the
/// session grain and its executor to the watcher that hears of its result. Nothing is recorded unless a listener
/// samples it (the session manager's <c>Flame:Observability:TraceSampleRatio</c>, off by default).
/// </summary>
public static class FlameTracing
{
    /// <summary>The name of the activity source: <c>Flame</c>.</summary>
    public const string SourceName = "Flame";

    /// <summary>The source every Flame span starts from.</summary>
    public static readonly ActivitySource Source = new(SourceName);
}
