using Flame.Grains.Diagnostics;

namespace Flame.Grains.Sessions;

public sealed partial class SessionGrain
{
    private SessionMetrics? _metrics;

    /// <summary>Counts the session's tasks in the metrics from now on: once it exists (created, or restored).</summary>
    private void Observe()
    {
        _metrics?.Dispose();
        _metrics = new SessionMetrics(_session!.Spec.Application,
            () => (_tasks.CountOf(TaskState.Pending), _tasks.CountOf(TaskState.Running), _session?.State == SessionState.Open));
        _tasks.Metrics = _metrics;
    }

    /// <summary>The session is no longer here (deleted, or deactivated): the gauges stop counting it.</summary>
    private void StopObserving()
    {
        _metrics?.Dispose();
        _metrics = null;
    }
}
