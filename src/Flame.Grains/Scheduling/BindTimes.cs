namespace Flame.Grains.Scheduling;

/// <summary>
/// The bind time of each application as the scheduler sees it: from the moment an executor is given a session
/// (its <see cref="ExecutorInfo.BoundAt"/>) to its report of <see cref="ExecutorState.Bound"/> (its service entered
/// the session), smoothed over the last binds. The preemption hysteresis is a multiple of it
/// (<see cref="Actions.SchedulingOptions.MoveCostFactor"/>). Not thread-safe: the scheduler grain's alone.
/// </summary>
internal sealed class BindTimes
{
    // Weight of a new sample: a few binds make the figure, one slow bind (a cold disk) does not.
    private const double Weight = 0.3;
    private readonly Dictionary<string, double> _byApplication = new(StringComparer.Ordinal);
    private Dictionary<string, long>? _view;

    /// <summary>Counts an executor report: a move to Bound with a bind time is a sample of its application's bind time.</summary>
    /// <param name="before">The executor as last known, if it was.</param>
    /// <param name="now">The executor as reported.</param>
    /// <param name="application">The application of the session it is bound to, if known.</param>
    /// <param name="nowMs">The time of the report, Unix epoch milliseconds.</param>
    public void Observe(ExecutorInfo? before, ExecutorInfo now, string? application, long nowMs)
    {
        if (application is null || now.State != ExecutorState.Bound || now.BoundAt is not { } boundAt
            || (before is { State: ExecutorState.Bound } && before.BoundAt == boundAt))
            return;
        var sample = Math.Max(0, nowMs - boundAt);
        _byApplication[application] = _byApplication.TryGetValue(application, out var mean) ? mean + Weight * (sample - mean) : sample;
        _view = null;
    }

    /// <summary>Milliseconds by application, as <see cref="Actions.ClusterView.BindTimes"/> takes them.</summary>
    public IReadOnlyDictionary<string, long> View =>
        _view ??= _byApplication.ToDictionary(p => p.Key, p => (long)Math.Round(p.Value), StringComparer.Ordinal);
}
