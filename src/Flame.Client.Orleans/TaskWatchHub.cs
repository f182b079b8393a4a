using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Flame.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flame.Client;

/// <summary>
/// Watches of tasks through session grains, shared by everyone in the process: one grain observer for
/// the whole process, one registration at a session grain per watched task however many callers watch it,
/// and a fan-out to each caller's stream.
/// </summary>
/// <remarks>
/// <para>The first watch of a task calls <see cref="ISessionGrain.WatchTaskAsync"/>, which returns the
/// task now and registers this hub's observer; later watches of the same task get the latest state at
/// once. Registration replies and one-way notifications can arrive in any order, so a state is passed on
/// only when it is newer than the latest seen: its number of events is the version, since each state
/// change appends one. A terminal state ends every stream of the task. When the last watcher of an
/// unfinished task leaves, the hub unregisters with <see cref="ISessionGrain.UnwatchTaskAsync"/>.</para>
/// <para>When a watched task has shown nothing for <see cref="TaskWatchHubOptions.RefreshInterval"/>,
/// the hub calls <see cref="ISessionGrain.WatchTaskAsync"/> again (it is idempotent), which both re-reads
/// the task and restores a registration that a dead silo took with it.</para>
/// <para>The runtime holds observers weakly: whoever uses the hub must keep it referenced (an
/// <see cref="OrleansFlameClient"/> does). Thread-safe.</para>
/// </remarks>
public sealed partial class TaskWatchHub : ITaskWatcher, IAsyncDisposable, IDisposable
{
    private readonly IGrainFactory _grainFactory;
    private readonly ILogger _logger;
    private readonly long _refreshIntervalMs;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string SessionId, long TaskId), Entry> _entries = new();
    private ITaskWatcher? _reference;
    private Timer? _timer;
    private bool _disposed;

    /// <summary>Creates a hub that calls grains through <paramref name="grainFactory"/> (a silo's, or an <c>IClusterClient</c>).</summary>
    public TaskWatchHub(IGrainFactory grainFactory, TaskWatchHubOptions? options = null, ILogger<TaskWatchHub>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(grainFactory);
        var interval = (options ?? new TaskWatchHubOptions()).RefreshInterval;
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), interval, "the refresh interval must be positive");
        _grainFactory = grainFactory;
        _refreshIntervalMs = Math.Max(1, (long)interval.TotalMilliseconds);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>How many tasks are being watched now (with at least one watcher, or being unregistered).</summary>
    public int WatchedTaskCount
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>
    /// The task now, then after each change, ending after a terminal state. Session or task errors (e.g. NotFound)
    /// are thrown from the enumeration as <see cref="FlameException"/>. Stopping the enumeration (or cancelling
    /// <paramref name="cancellationToken"/>) ends this watch only.
    /// </summary>
    public async IAsyncEnumerable<TaskInfo> WatchAsync(string sessionId, long taskId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        var (entry, subscriber) = Subscribe(sessionId, taskId);
        try
        {
            Pump(entry);
            var reader = subscriber.Channel.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var task))
                    yield return task;
            }
        }
        finally
        {
            Unsubscribe(entry, subscriber);
        }
    }

    /// <summary>Called by session grains after a watched task changed.</summary>
    Task ITaskWatcher.OnTaskChangedAsync(TaskInfo task)
    {
        if (task is null || task.SessionId is null)
            return Task.CompletedTask;
        lock (_gate)
        {
            if (_entries.TryGetValue((task.SessionId, task.Id), out var entry))
                Deliver(entry, task);
        }
        return Task.CompletedTask;
    }

    /// <summary>Ends every watch with an Unavailable error and stops receiving notifications.</summary>
    public void Dispose()
    {
        ITaskWatcher? reference;
        Timer? timer;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            var error = new FlameException(FlameErrorKind.Unavailable, "the task watch hub was disposed");
            foreach (var entry in _entries.Values)
            {
                entry.Done = true;
                foreach (var subscriber in entry.Subscribers)
                    subscriber.Channel.Writer.TryComplete(error);
                entry.Subscribers.Clear();
            }
            _entries.Clear();
            reference = _reference;
            timer = _timer;
            _reference = null;
            _timer = null;
        }
        timer?.Dispose();
        if (reference is not null)
        {
            try
            {
                _grainFactory.DeleteObjectReference<ITaskWatcher>(reference);
            }
            catch (Exception ex)
            {
                LogDeleteReferenceFailed(ex);
            }
        }
    }

    /// <summary>Same as <see cref="Dispose"/>.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // ---------------------------------------------------------------- subscribers

    private (Entry, Subscriber) Subscribe(string sessionId, long taskId)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            EnsureStarted();
            var key = (sessionId, taskId);
            if (!_entries.TryGetValue(key, out var entry))
            {
                entry = new Entry(sessionId, taskId, Environment.TickCount64);
                _entries.Add(key, entry);
            }
            var subscriber = new Subscriber();
            entry.Subscribers.Add(subscriber);
            if (entry.Latest is not null)
                subscriber.Channel.Writer.TryWrite(entry.Latest);
            return (entry, subscriber);
        }
    }

    private void Unsubscribe(Entry entry, Subscriber subscriber)
    {
        lock (_gate)
        {
            subscriber.Channel.Writer.TryComplete();
            if (entry.Done || !entry.Subscribers.Remove(subscriber) || entry.Subscribers.Count > 0)
                return;
        }
        Pump(entry);
    }

    private void EnsureStarted()
    {
        if (_reference is not null)
            return;
        _reference = _grainFactory.CreateObjectReference<ITaskWatcher>(this);
        var period = TimeSpan.FromMilliseconds(Math.Max(10, _refreshIntervalMs / 4));
        // The timer must not carry the first caller's execution context (its request context, activity) forever.
        using (ExecutionContext.SuppressFlow())
            _timer = new Timer(static state => ((TaskWatchHub)state!).OnTimer(), this, period, period);
    }

    // ---------------------------------------------------------------- state changes (all under _gate)

    private void Deliver(Entry entry, TaskInfo task)
    {
        entry.LastSeen = Environment.TickCount64;
        if (entry.Done || (entry.Latest is { } latest && !IsNewer(task, latest)))
            return;
        entry.Latest = task;
        var terminal = task.State.IsTerminal();
        foreach (var subscriber in entry.Subscribers)
        {
            subscriber.Channel.Writer.TryWrite(task);
            if (terminal)
                subscriber.Channel.Writer.TryComplete();
        }
        if (terminal)
        {
            // The grain drops a registration itself once the task is terminal.
            entry.Registered = false;
            Remove(entry);
        }
    }

    private void Fail(Entry entry, Exception error)
    {
        if (entry.Done)
            return;
        foreach (var subscriber in entry.Subscribers)
            subscriber.Channel.Writer.TryComplete(error);
        Remove(entry);
    }

    private void Remove(Entry entry)
    {
        entry.Done = true;
        entry.Subscribers.Clear();
        if (_entries.TryGetValue(entry.Key, out var current) && ReferenceEquals(current, entry))
            _entries.Remove(entry.Key);
    }

    private static bool IsNewer(TaskInfo task, TaskInfo latest)
    {
        var version = task.Events?.Count ?? 0;
        var latestVersion = latest.Events?.Count ?? 0;
        // A terminal state beats a non-terminal one even if the event list were ever capped.
        return version > latestVersion || (task.State.IsTerminal() && !latest.State.IsTerminal());
    }

    /// <summary>Decides the next grain call of an entry; at most one is in flight per entry, so they never overtake each other.</summary>
    private Operation NextOperation(Entry entry)
    {
        if (entry.Done || entry.Busy || _disposed)
            return Operation.None;
        if (entry.Subscribers.Count > 0)
        {
            if (!entry.Registered)
            {
                entry.Busy = true;
                entry.RefreshDue = false;
                return Operation.Register;
            }
            if (entry.RefreshDue)
            {
                entry.Busy = true;
                entry.RefreshDue = false;
                return Operation.Refresh;
            }
            return Operation.None;
        }
        if (entry.Registered)
        {
            entry.Busy = true;
            return Operation.Unregister;
        }
        Remove(entry);
        return Operation.None;
    }

    // ---------------------------------------------------------------- grain calls

    private void Pump(Entry entry)
    {
        Operation operation;
        ITaskWatcher? reference;
        lock (_gate)
        {
            operation = NextOperation(entry);
            reference = _reference;
        }
        if (operation == Operation.None || reference is null)
            return;
        _ = operation == Operation.Unregister
            ? UnregisterAsync(entry, reference)
            : RegisterAsync(entry, reference, refresh: operation == Operation.Refresh);
    }

    private async Task RegisterAsync(Entry entry, ITaskWatcher reference, bool refresh)
    {
        TaskInfo? task = null;
        Exception? error = null;
        try
        {
            task = await _grainFactory.GetGrain<ISessionGrain>(entry.SessionId)
                .WatchTaskAsync(entry.TaskId, reference).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        if (task is null)
            error ??= new FlameException(FlameErrorKind.Internal, $"the session grain returned no task for task {entry.TaskId}");

        lock (_gate)
        {
            entry.Busy = false;
            if (task is not null)
            {
                if (!entry.Done)
                {
                    entry.Registered = !task.State.IsTerminal();
                    if (refresh && entry.Latest is { } latest && IsNewer(task, latest))
                        LogRefreshFoundChange(entry.SessionId, entry.TaskId, task.State);
                }
                Deliver(entry, task);
            }
            else if (!refresh || error is FlameException { Kind: FlameErrorKind.NotFound or FlameErrorKind.InvalidArgument })
            {
                Fail(entry, OrleansErrors.Translate(error!));
            }
            else
            {
                // A refresh that failed for a passing reason: keep the watch and try again after another interval.
                entry.LastSeen = Environment.TickCount64;
                LogRefreshFailed(error!, entry.SessionId, entry.TaskId);
            }
        }
        Pump(entry);
    }

    private async Task UnregisterAsync(Entry entry, ITaskWatcher reference)
    {
        try
        {
            await _grainFactory.GetGrain<ISessionGrain>(entry.SessionId)
                .UnwatchTaskAsync(entry.TaskId, reference).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Harmless: the grain drops the registration when the task ends, and we ignore what it sends until then.
            LogUnwatchFailed(ex, entry.SessionId, entry.TaskId);
        }
        lock (_gate)
        {
            entry.Busy = false;
            entry.Registered = false;
        }
        // A new watcher may have come meanwhile: then this registers again.
        Pump(entry);
    }

    private void OnTimer()
    {
        List<Entry>? due = null;
        var now = Environment.TickCount64;
        lock (_gate)
        {
            if (_disposed)
                return;
            foreach (var entry in _entries.Values)
            {
                if (!entry.Busy && entry.Registered && entry.Subscribers.Count > 0 && now - entry.LastSeen >= _refreshIntervalMs)
                {
                    entry.RefreshDue = true;
                    (due ??= []).Add(entry);
                }
            }
        }
        if (due is null)
            return;
        foreach (var entry in due)
            Pump(entry);
    }

    // ---------------------------------------------------------------- types

    private enum Operation
    {
        None,
        Register,
        Refresh,
        Unregister,
    }

    /// <summary>One watched task. Every field is guarded by the hub's lock.</summary>
    private sealed class Entry(string sessionId, long taskId, long now)
    {
        public readonly string SessionId = sessionId;
        public readonly long TaskId = taskId;
        public (string, long) Key => (SessionId, TaskId);
        public readonly HashSet<Subscriber> Subscribers = [];
        /// <summary>The newest state seen; what a new watcher gets at once.</summary>
        public TaskInfo? Latest;
        /// <summary>True while the session grain (as far as we know) holds our registration.</summary>
        public bool Registered;
        /// <summary>True while a grain call for this entry is in flight.</summary>
        public bool Busy;
        public bool RefreshDue;
        /// <summary>Terminal, failed or abandoned: out of the table, never used again.</summary>
        public bool Done;
        /// <summary><see cref="Environment.TickCount64"/> of the last reply or notification.</summary>
        public long LastSeen = now;
    }

    /// <summary>One caller's stream. Unbounded: a task has few states, and none may be lost before the terminal one.</summary>
    private sealed class Subscriber
    {
        public readonly Channel<TaskInfo> Channel = System.Threading.Channels.Channel.CreateUnbounded<TaskInfo>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    }
}
