namespace Flame.ExecutorManager.Gateway;

/// <summary>Exponential back-off with jitter between retries of a gateway that does not answer.</summary>
internal struct Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private TimeSpan _next;

    public Backoff(TimeSpan initial, TimeSpan max)
    {
        _initial = _next = initial;
        _max = max;
    }

    /// <summary>The delay before the next try; each call doubles the following one, up to the maximum.</summary>
    public TimeSpan Next()
    {
        var current = _next;
        _next = TimeSpan.FromTicks(Math.Min(_max.Ticks, current.Ticks * 2));
        // Up to a quarter of jitter, so that the executors of a node do not all knock at once.
        return current + TimeSpan.FromTicks((long)(current.Ticks * 0.25 * Random.Shared.NextDouble()));
    }

    /// <summary>Starts again from the initial delay, after a success.</summary>
    public void Reset() => _next = _initial;
}
