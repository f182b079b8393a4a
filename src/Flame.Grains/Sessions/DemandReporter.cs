namespace Flame.Grains.Sessions;

/// <summary>
/// Tells the scheduler about a session's demand. At once when it matters for allocation (work appears or ends,
/// executors come or go); otherwise a timer sends the latest counts a few times a second, so that thousands of task
/// changes per second cost no scheduler calls.
/// </summary>
/// <param name="demand">The session's demand now; null when the session does not exist (nothing to report).</param>
/// <param name="send">Sends a report to the scheduler.</param>
/// <param name="startTimer">Starts a one-shot timer on the session's scheduler (a grain timer).</param>
internal sealed class DemandReporter(
    Func<SessionDemand?> demand, Func<SessionDemand, Task> send, Func<Func<Task>, TimeSpan, IDisposable> startTimer)
{
    /// <summary>How long a change that does not matter at once waits, with the others after it, before it is sent.</summary>
    public static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(200);

    private SessionDemand? _lastReported;
    private IDisposable? _timer;

    /// <summary>Reports the demand if it changed in a way that matters (or <paramref name="force"/>); otherwise soon.</summary>
    public void Report(bool force)
    {
        if (demand() is not { } now)
            return;
        var last = _lastReported;
        var matters = force || last is null
            || (last.Pending == 0) != (now.Pending == 0)
            || (last.Running == 0) != (now.Running == 0);
        if (matters)
        {
            _lastReported = now;
            _ = send(now);
        }
        else if (_timer is null && now != last)
            _timer = startTimer(SendLatestAsync, Coalesce);
    }

    /// <summary>The session is deleted: nothing more is sent but <paramref name="last"/>.</summary>
    public Task Deleted(SessionDemand last)
    {
        Stop();
        return send(last);
    }

    /// <summary>Stops the pending timer.</summary>
    public void Stop()
    {
        _timer?.Dispose();
        _timer = null;
    }

    private Task SendLatestAsync()
    {
        Stop();
        if (demand() is { } now && now != _lastReported)
        {
            _lastReported = now;
            return send(now);
        }
        return Task.CompletedTask;
    }
}
