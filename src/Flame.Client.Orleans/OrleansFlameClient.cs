using System.Runtime.CompilerServices;
using Flame.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flame.Client;

/// <summary>
/// An <see cref="IFlameClient"/> that calls the grains directly: inside a silo (the gRPC gateway is a thin
/// mapping over this class) or from an Orleans <c>IClusterClient</c>.
/// </summary>
/// <remarks>
/// Ids and names are validated with <see cref="FlameIds"/> before any grain is called. Grain failures
/// arrive as the <see cref="FlameException"/> the grain threw; a cluster that cannot be reached or does not
/// answer in time is reported as <see cref="FlameErrorKind.Unavailable"/>, any other fault as
/// <see cref="FlameErrorKind.Internal"/>. A cancelled token stops the wait (the grain call itself is not
/// recalled). Task watches go through one <see cref="TaskWatchHub"/>.
/// </remarks>
public sealed partial class OrleansFlameClient : IFlameClient
{
    /// <summary>Tasks read from a session grain per call when listing.</summary>
    public const int TaskPageSize = 1000;

    /// <summary>
    /// How often a session watch checks that its session still holds it: 5 seconds, so that a watch lost with a dead
    /// silo resumes a few seconds after the session is back on another.
    /// </summary>
    public static readonly TimeSpan SessionWatchCheckInterval = TimeSpan.FromSeconds(5);

    private const int NewSessionIdAttempts = 3;

    private readonly IGrainFactory _grainFactory;
    private readonly bool _ownsWatchHub;
    private readonly ILogger _logger;

    /// <summary>
    /// Creates a client over <paramref name="grainFactory"/> (a silo's, or an <c>IClusterClient</c>). Without a
    /// <paramref name="watchHub"/> it creates its own, with default options, and disposes it with itself.
    /// </summary>
    public OrleansFlameClient(IGrainFactory grainFactory, TaskWatchHub? watchHub = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(grainFactory);
        _grainFactory = grainFactory;
        _logger = (ILogger?)loggerFactory?.CreateLogger<OrleansFlameClient>() ?? NullLogger.Instance;
        _ownsWatchHub = watchHub is null;
        WatchHub = watchHub ?? new TaskWatchHub(grainFactory, logger: loggerFactory?.CreateLogger<TaskWatchHub>());
    }

    /// <summary>The hub all task watches of this client go through.</summary>
    public TaskWatchHub WatchHub { get; }

    // ---------------------------------------------------------------- applications

    /// <inheritdoc />
    public async Task RegisterApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateApplicationName(name);
        ArgumentNullException.ThrowIfNull(spec);
        await Call(Applications.RegisterAsync(name, spec), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task UpdateApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateApplicationName(name);
        ArgumentNullException.ThrowIfNull(spec);
        await Call(Applications.UpdateAsync(name, spec), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task UnregisterApplicationAsync(string name, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateApplicationName(name);
        await Call(Applications.UnregisterAsync(name), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ApplicationInfo> GetApplicationAsync(string name, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateApplicationName(name);
        return await Call(Applications.GetAsync(name), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ApplicationInfo> ListApplicationsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var apps = await Call(Applications.ListAsync(), cancellationToken).ConfigureAwait(false);
        foreach (var app in apps)
            yield return app;
    }

    // ---------------------------------------------------------------- sessions

    /// <inheritdoc />
    public async Task<SessionInfo> CreateSessionAsync(string? sessionId, SessionSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        FlameIds.ValidateApplicationName(spec.Application);
        if (!string.IsNullOrEmpty(sessionId))
            return await Call(Session(FlameIds.ValidateSessionId(sessionId)).CreateAsync(spec), cancellationToken).ConfigureAwait(false);

        // The server picks the id; a collision of two random ids is all but impossible, but cheap to survive.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var id = FlameIds.NewSessionId(spec.Application);
                return await Call(Session(id).CreateAsync(spec), cancellationToken).ConfigureAwait(false);
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.AlreadyExists && attempt < NewSessionIdAttempts)
            {
            }
        }
    }

    /// <inheritdoc />
    public async Task<SessionInfo> OpenSessionAsync(string sessionId, SessionSpec? spec = null, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        if (spec is not null)
            FlameIds.ValidateApplicationName(spec.Application);
        return await Call(Session(sessionId).OpenAsync(spec), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<SessionInfo> CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        return await Call(Session(sessionId).CloseAsync(), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<SessionInfo> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        return await Call(Session(sessionId).DeleteAsync(), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<SessionInfo> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        return await Call(Session(sessionId).GetAsync(), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SessionInfo> ListSessionsAsync(CancellationToken cancellationToken = default) =>
        ListSessionsAsync(new SessionFilter(), cancellationToken);

    /// <inheritdoc />
    /// <remarks>Pages from the session directory, which reads the task store: no session grain is activated.</remarks>
    public async IAsyncEnumerable<SessionInfo> ListSessionsAsync(SessionFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var directory = _grainFactory.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key);
        bool? open = filter.State is { } state ? state == SessionState.Open : null;
        string? token = null;
        do
        {
            var page = await Call(directory.ListPageAsync(token, filter.PageSize, open, filter.Application), cancellationToken).ConfigureAwait(false);
            foreach (var session in page.Sessions)
                yield return session;
            token = page.NextPageToken;
        }
        while (token is not null);
    }

    /// <inheritdoc />
    public async Task<int> PruneSessionsAsync(DateTimeOffset closedBefore, CancellationToken cancellationToken = default)
    {
        var directory = _grainFactory.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key);
        var total = 0;
        while (true)
        {
            var deleted = await Call(directory.PruneClosedAsync(closedBefore.ToUnixTimeMilliseconds(), PruneBatch), cancellationToken).ConfigureAwait(false);
            total += deleted.Count;
            // A short batch is the last one (or all that is left runs tasks still: the next prune takes those).
            if (deleted.Count < PruneBatch)
                return total;
        }
    }

    /// <summary>Sessions deleted per directory call when pruning.</summary>
    private const int PruneBatch = 1_000;

    // ---------------------------------------------------------------- tasks

    /// <inheritdoc />
    public async Task<TaskInfo> CreateTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        return await Call(Session(sessionId).CreateTaskAsync(input), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<long> CreateTasksAsync(string sessionId, IReadOnlyList<byte[]?> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        FlameIds.ValidateSessionId(sessionId);
        return await Call(Session(sessionId).CreateTasksAsync(inputs), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The session's silo may die: its new activation knows no watchers, and nothing would come any more. So every
    /// <see cref="SessionWatchCheckInterval"/> the watch asks the session whether it still holds it; when it does not
    /// (or cannot answer), the watch is made again and the tasks that finished meanwhile are read from the session
    /// (<see cref="ResumingStreams.WatchSessionAsync"/>): no task missed, none reported twice.
    /// </remarks>
    public IAsyncEnumerable<IReadOnlyList<TaskInfo>> WatchSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        return ResumingStreams.WatchSessionAsync(
            ct => WatchSessionOnceAsync(sessionId, ct), ct => ListTasksAsync(sessionId, ct), reached: true, cancellationToken);
    }

    private async IAsyncEnumerable<IReadOnlyList<TaskInfo>> WatchSessionOnceAsync(
        string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var session = Session(sessionId);
        var batches = System.Threading.Channels.Channel.CreateUnbounded<(IReadOnlyList<TaskInfo> Tasks, bool Done)>(
            new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });
        var watcher = new SessionWatcher(batches.Writer);
        var reference = _grainFactory.CreateObjectReference<ISessionWatcher>(watcher);
        try
        {
            await Call(session.WatchSessionAsync(reference), cancellationToken).ConfigureAwait(false);
            yield return []; // the watch is in place
            using var checks = new PeriodicTimer(SessionWatchCheckInterval);
            var check = checks.WaitForNextTickAsync(cancellationToken).AsTask();
            var read = batches.Reader.WaitToReadAsync(cancellationToken).AsTask();
            while (true)
            {
                if (await Task.WhenAny(read, check).ConfigureAwait(false) == check)
                {
                    await check.ConfigureAwait(false); // throws when cancelled
                    if (!await StillWatchedAsync(session, reference).ConfigureAwait(false)
                        && !batches.Reader.TryPeek(out _)) // a last batch may have ended the registration
                    {
                        LogSessionWatchLost(sessionId);
                        throw new FlameException(FlameErrorKind.Unavailable, $"the watch of session '{sessionId}' was lost with its silo");
                    }
                    check = checks.WaitForNextTickAsync(cancellationToken).AsTask();
                    continue;
                }
                if (!await read.ConfigureAwait(false))
                    yield break;
                while (batches.Reader.TryRead(out var item))
                {
                    if (item.Tasks.Count > 0)
                        yield return item.Tasks;
                    if (item.Done)
                        yield break;
                }
                read = batches.Reader.WaitToReadAsync(cancellationToken).AsTask();
            }
        }
        finally
        {
            try
            {
                await session.UnwatchSessionAsync(reference).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The session may be gone, or the cluster unreachable: the watch ends either way.
            }
            _grainFactory.DeleteObjectReference<ISessionWatcher>(reference);
            GC.KeepAlive(watcher);
        }
    }

    /// <summary>False when the session no longer holds <paramref name="reference"/>, or cannot say so.</summary>
    private static async Task<bool> StillWatchedAsync(ISessionGrain session, ISessionWatcher reference)
    {
        try
        {
            return await session.IsWatchingSessionAsync(reference).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <summary>The grain observer behind one <see cref="WatchSessionAsync"/>.</summary>
    private sealed class SessionWatcher(System.Threading.Channels.ChannelWriter<(IReadOnlyList<TaskInfo>, bool)> batches) : ISessionWatcher
    {
        private readonly SessionBatchOrder _order = new();

        public Task OnTasksFinishedAsync(IReadOnlyList<TaskInfo> tasks, bool sessionDone, long batch)
        {
            foreach (var ready in _order.Accept(tasks, sessionDone, batch))
                batches.TryWrite(ready);
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public async Task<TaskInfo> GetTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        ValidateTaskId(taskId);
        return await Call(Session(sessionId).GetTaskAsync(taskId), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TaskInfo> WatchTaskAsync(string sessionId, long taskId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        ValidateTaskId(taskId);
        await foreach (var task in WatchHub.WatchAsync(sessionId, taskId, cancellationToken).ConfigureAwait(false))
            yield return task;
    }

    /// <inheritdoc />
    /// <remarks>Reads <see cref="TaskPageSize"/> tasks per grain call, fetching the next page while this one is consumed.</remarks>
    public async IAsyncEnumerable<TaskInfo> ListTasksAsync(string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateSessionId(sessionId);
        var session = Session(sessionId);
        var pending = session.ListTasksAsync(0, TaskPageSize);
        while (pending is not null)
        {
            var page = await Call(pending, cancellationToken).ConfigureAwait(false);
            pending = page.NextAfterId is { } after ? session.ListTasksAsync(after, TaskPageSize) : null;
            foreach (var task in page.Tasks)
                yield return task;
        }
    }

    /// <inheritdoc />
    public Task<TaskInfo> RunTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default) =>
        TaskRunner.RunAsync(this, sessionId, input, cancellationToken);

    // ---------------------------------------------------------------- cluster

    /// <inheritdoc />
    public async IAsyncEnumerable<ExecutorInfo> ListExecutorsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var executors = await Call(Cluster.ListExecutorsAsync(), cancellationToken).ConfigureAwait(false);
        foreach (var executor in executors)
            yield return executor;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<NodeInfo> ListNodesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var nodes = await Call(Cluster.ListNodesAsync(), cancellationToken).ConfigureAwait(false);
        foreach (var node in nodes)
            yield return node;
    }

    /// <inheritdoc />
    public async Task<NodeInfo> GetNodeAsync(string name, CancellationToken cancellationToken = default)
    {
        FlameIds.ValidateNodeName(name);
        return await Call(Cluster.GetNodeAsync(name), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the watch hub if this client created it.</summary>
    public ValueTask DisposeAsync() => _ownsWatchHub ? WatchHub.DisposeAsync() : ValueTask.CompletedTask;

    // ---------------------------------------------------------------- plumbing

    private IApplicationRegistryGrain Applications => _grainFactory.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key);

    private IClusterDirectoryGrain Cluster => _grainFactory.GetGrain<IClusterDirectoryGrain>(IClusterDirectoryGrain.Key);

    private ISessionGrain Session(string sessionId) => _grainFactory.GetGrain<ISessionGrain>(sessionId);


    private static void ValidateTaskId(long taskId)
    {
        if (taskId <= 0)
            throw FlameException.InvalidArgument($"task id {taskId} is malformed: task ids are positive");
    }

    private async Task Call(Task call, CancellationToken cancellationToken)
    {
        try
        {
            await call.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!OrleansErrors.IsPassedOn(ex))
        {
            throw Translate(ex);
        }
    }

    private async Task<T> Call<T>(Task<T> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!OrleansErrors.IsPassedOn(ex))
        {
            throw Translate(ex);
        }
    }

    private Exception Translate(Exception exception)
    {
        var translated = OrleansErrors.Translate(exception);
        if (translated is FlameException { Kind: FlameErrorKind.Internal })
            LogGrainCallFailed(exception);
        return translated;
    }
}
