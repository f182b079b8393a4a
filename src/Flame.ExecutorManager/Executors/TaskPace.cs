namespace Flame.ExecutorManager.Executors;

/// <summary>
/// How many tasks an executor asks to hold, from how long its tasks run: the running one and about
/// <see cref="Horizon"/> of work queued behind it, at most the configured window. Short tasks get the whole window
/// (their results and the next tasks share messages); tasks of <see cref="Horizon"/> or longer get one at a time,
/// so that a few long tasks are spread over the executors instead of waiting in one executor's queue. Until a task
/// has run, nothing is known: one at a time. A task that ran longer than the estimate counts in full at once (one
/// long task is enough to stop queueing behind the next); shorter ones bring the estimate down gradually.
/// </summary>
internal sealed class TaskPace(int maxWindow)
{
    /// <summary>About how much work an executor queues behind its running task.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromMilliseconds(10);

    /// <summary>A task still running after this long gives back the tasks queued behind it.</summary>
    public static readonly TimeSpan GiveBackAfter = TimeSpan.FromMilliseconds(50);

    private const double Decay = 0.2; // the weight of a shorter-than-estimated task
    private double _estimateTicks = -1;

    /// <summary>Tasks to hold (1 to the configured window).</summary>
    public int Window
    {
        get
        {
            if (_estimateTicks < 0)
                return 1;
            var queued = _estimateTicks <= 0 ? maxWindow : Horizon.Ticks / _estimateTicks;
            return (int)Math.Clamp(1 + Math.Floor(queued), 1, maxWindow);
        }
    }

    /// <summary>A task ran for <paramref name="elapsed"/>.</summary>
    public void Ran(TimeSpan elapsed)
    {
        var ticks = Math.Max(0, elapsed.Ticks);
        _estimateTicks = _estimateTicks < 0 || ticks >= _estimateTicks
            ? ticks
            : _estimateTicks + Decay * (ticks - _estimateTicks);
    }
}
