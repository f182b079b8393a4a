using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Flame.Grains.Diagnostics;

/// <summary>
/// The instruments of one session, with its application's tag built once. The task table records through it; the
/// gauges read the live ones (those of the sessions active on this silo) when they are collected.
/// </summary>
internal sealed class SessionMetrics : IDisposable
{
    private static readonly ConcurrentDictionary<SessionMetrics, byte> Live = new();

    private readonly KeyValuePair<string, object?> _application;
    private readonly Func<(int Pending, int Running, bool Open)> _counts;

    /// <summary>Starts observing a session of <paramref name="application"/>; <paramref name="counts"/> is read at collection.</summary>
    public SessionMetrics(string application, Func<(int Pending, int Running, bool Open)> counts)
    {
        _application = new("application", application);
        _counts = counts;
        Live[this] = 0;
    }

    /// <summary><paramref name="count"/> tasks were created.</summary>
    public void Created(int count = 1) => FlameMetrics.TasksCreated.Add(count, _application);

    /// <summary>A task started, <paramref name="waitedMs"/> after its creation.</summary>
    public void Started(long waitedMs)
    {
        FlameMetrics.TasksStarted.Add(1, _application);
        FlameMetrics.TaskQueueWait.Record(waitedMs / 1000.0, _application);
    }

    /// <summary>A task reached <paramref name="state"/>; <paramref name="ranMs"/> is null when it never ran.</summary>
    public void Finished(TaskState state, long? ranMs)
    {
        var tag = FlameMetrics.StateTags[(int)state];
        FlameMetrics.TasksCompleted.Add(1, _application, tag);
        if (ranMs is { } ms)
            FlameMetrics.TaskDuration.Record(ms / 1000.0, _application, tag);
    }

    /// <summary>The session is no longer active here (deactivated or deleted): the gauges stop counting it.</summary>
    public void Dispose() => Live.TryRemove(this, out _);

    internal static IEnumerable<Measurement<long>> ObserveTasks()
    {
        var sums = new Dictionary<(string Application, TaskState State), long>();
        foreach (var session in Live.Keys)
        {
            var (pending, running, _) = session._counts();
            var application = (string)session._application.Value!;
            Add(sums, (application, TaskState.Pending), pending);
            Add(sums, (application, TaskState.Running), running);
        }
        foreach (var ((application, state), count) in sums)
            yield return new(count, new KeyValuePair<string, object?>("application", application), FlameMetrics.StateTags[(int)state]);
    }

    internal static IEnumerable<Measurement<long>> ObserveSessions()
    {
        long open = 0, closed = 0;
        foreach (var session in Live.Keys)
        {
            if (session._counts().Open)
                open++;
            else
                closed++;
        }
        yield return new(open, new KeyValuePair<string, object?>("state", "open"));
        yield return new(closed, new KeyValuePair<string, object?>("state", "closed"));
    }

    private static void Add<TKey>(Dictionary<TKey, long> sums, TKey key, long count) where TKey : notnull =>
        sums[key] = sums.GetValueOrDefault(key) + count;
}
