using System.ComponentModel.DataAnnotations;
using Flame.Grains.Scheduling.Actions;

namespace Flame.Grains.Hosting;

/// <summary>The scheduler's hysteresis. Bound from configuration section <c>Flame:Scheduling</c>.</summary>
public sealed class FlameSchedulingOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:Scheduling";

    /// <summary>Whether the scheduler takes executors back from over-served sessions at task boundaries. Default true.</summary>
    public bool Preempt { get; set; } = true;

    /// <summary>An executor bound more recently than this many seconds is not preempted. Default 10.</summary>
    [Range(0, 86_400)]
    public int MinBoundTimeSeconds { get; set; } = 10;

    /// <summary>Seconds a preemption is remembered, so that it is not undone while its taker has demand. Default 60.</summary>
    [Range(0, 86_400)]
    public int PreemptionMemorySeconds { get; set; } = 60;

    /// <summary>The policy's options.</summary>
    public SchedulingOptions ToPolicyOptions() => new()
    {
        Preempt = Preempt,
        MinBoundTime = TimeSpan.FromSeconds(MinBoundTimeSeconds),
        PreemptionMemory = TimeSpan.FromSeconds(PreemptionMemorySeconds),
    };
}
