using Flame.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flame.Grains.Sessions;

/// <summary>One session and its task queue. See <see cref="ISessionGrain"/>.</summary>
// Held in memory only until the durable task store lands; never collected while it exists.
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class SessionGrain(
    IOptions<FlameLimitsOptions> limits,
    TimeProvider clock,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain
{
    private readonly FlameLimitsOptions _limits = limits.Value;
    private SessionData? _session;
    private TaskTable _tasks = new();
    private readonly Dictionary<long, List<ITaskWatcher>> _watchers = [];

    private string Id => this.GetPrimaryKeyString();

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<SessionInfo> CreateAsync(SessionSpec spec)
    {
        if (_session is not null)
            throw FlameException.AlreadyExists($"session '{Id}' already exists");
        await CreateCoreAsync(spec);
        return View();
    }

    public async Task<SessionInfo> OpenAsync(SessionSpec? spec)
    {
        if (_session is null)
        {
            if (spec is null)
                throw NotFound();
            await CreateCoreAsync(spec);
            return View();
        }
        if (_session.State == SessionState.Closed)
            throw FlameException.FailedPrecondition($"session '{Id}' is closed");
        if (spec is not null && SessionSpecs.FirstDifference(_session.Spec, spec) is { } field)
            throw FlameException.InvalidArgument(
                $"session '{Id}' exists with a different {field}; open it without a spec or with the same one");
        return View();
    }

    public Task<SessionInfo> CloseAsync()
    {
        var session = Existing();
        if (session.State == SessionState.Open)
        {
            var now = Now;
            var cancelled = _tasks.CancelPending(now, "cancelled: the session was closed");
            session.State = SessionState.Closed;
            session.CompletionTime = now;
            session.Events.Add(new FlameEvent
            {
                Code = SessionEventCodes.Closed,
                Message = $"closed; {cancelled} pending task(s) cancelled",
                CreationTime = now,
            });
            // Cancelled tasks are terminal: tell their watchers and forget them.
            foreach (var taskId in _watchers.Keys.ToList())
                if (_tasks.StateOf(taskId) == TaskState.Cancelled)
                    Notify(taskId);
            LogClosed(Id, cancelled);
        }
        return Task.FromResult(View());
    }

    public async Task<SessionInfo> DeleteAsync()
    {
        var session = Existing();
        if (session.State != SessionState.Closed)
            throw FlameException.FailedPrecondition($"session '{Id}' is open; close it before deleting it");
        var running = _tasks.CountOf(TaskState.Running);
        if (running > 0)
            throw FlameException.FailedPrecondition($"session '{Id}' has {running} running task(s); delete it when they finish");
        var last = View();
        await GrainFactory.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).RemoveAsync(Id);
        _session = null;
        _tasks = new TaskTable();
        _watchers.Clear();
        DeactivateOnIdle();
        LogDeleted(Id);
        return last;
    }

    public Task<SessionInfo> GetAsync()
    {
        Existing();
        return Task.FromResult(View());
    }

    public Task<TaskInfo> CreateTaskAsync(byte[]? input)
    {
        var session = Existing();
        if (session.State != SessionState.Open)
            throw FlameException.InvalidArgument($"session '{Id}' is closed; it accepts no more tasks");
        if (input is not null && input.Length > _limits.MaxTaskInputBytes)
            throw FlameException.InvalidArgument(
                $"task input is {input.Length} bytes; the limit is {_limits.MaxTaskInputBytes} (Flame:Limits:MaxTaskInputBytes)");
        var id = _tasks.Add(input, Now);
        return Task.FromResult(_tasks.Get(id, Id));
    }

    public Task<TaskInfo> GetTaskAsync(long taskId)
    {
        ExistingTask(taskId);
        return Task.FromResult(_tasks.Get(taskId, Id));
    }

    public Task<TaskPage> ListTasksAsync(long afterId, int max)
    {
        Existing();
        return Task.FromResult(_tasks.Page(afterId, Math.Clamp(max, 1, 10_000), Id));
    }

    public Task<TaskInfo> WatchTaskAsync(long taskId, ITaskWatcher watcher)
    {
        ExistingTask(taskId);
        var task = _tasks.Get(taskId, Id);
        if (!task.State.IsTerminal())
        {
            if (!_watchers.TryGetValue(taskId, out var list))
                _watchers[taskId] = list = new List<ITaskWatcher>(1);
            if (!list.Contains(watcher))
                list.Add(watcher);
        }
        return Task.FromResult(task);
    }

    public Task UnwatchTaskAsync(long taskId, ITaskWatcher watcher)
    {
        if (_watchers.TryGetValue(taskId, out var list) && list.Remove(watcher) && list.Count == 0)
            _watchers.Remove(taskId);
        return Task.CompletedTask;
    }

    /// <summary>Tells the task's watchers its new state; forgets them once it is terminal.</summary>
    private void Notify(long taskId)
    {
        if (!_watchers.TryGetValue(taskId, out var list))
            return;
        var task = _tasks.Get(taskId, Id);
        foreach (var watcher in list)
            _ = watcher.OnTaskChangedAsync(task); // one-way: returns at once
        if (task.State.IsTerminal())
            _watchers.Remove(taskId);
    }

    private async Task CreateCoreAsync(SessionSpec spec)
    {
        FlameIds.ValidateSessionId(Id);
        SessionSpecs.Validate(spec, _limits);
        var application = await GrainFactory
            .GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
            .GetAsync(spec.Application);
        if (application.State != ApplicationState.Enabled)
            throw FlameException.InvalidArgument($"application '{spec.Application}' is disabled; it accepts no new sessions");
        await GrainFactory.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).AddAsync(Id);
        var now = Now;
        _session = new SessionData(spec, application, now);
        _session.Events.Add(new FlameEvent { Code = SessionEventCodes.Created, Message = "created", CreationTime = now });
        LogCreated(Id, spec.Application);
    }

    private SessionData Existing()
    {
        if (_session is null)
        {
            // Don't keep activations of ids that were never created.
            DeactivateOnIdle();
            throw NotFound();
        }
        return _session;
    }

    private void ExistingTask(long taskId)
    {
        Existing();
        if (!_tasks.Contains(taskId))
            throw FlameException.NotFound($"task {taskId} not found in session '{Id}'");
    }

    private FlameException NotFound() => FlameException.NotFound($"session '{Id}' not found");

    private SessionInfo View()
    {
        var s = _session!;
        return new SessionInfo
        {
            Id = Id,
            Spec = s.Spec,
            Status = new SessionStatus
            {
                State = s.State,
                CreationTime = s.CreationTime,
                CompletionTime = s.CompletionTime,
                Pending = _tasks.CountOf(TaskState.Pending),
                Running = _tasks.CountOf(TaskState.Running),
                Succeed = _tasks.CountOf(TaskState.Succeed),
                Failed = _tasks.CountOf(TaskState.Failed),
                Cancelled = _tasks.CountOf(TaskState.Cancelled),
                Events = s.Events.ToArray(),
            },
        };
    }

    private sealed class SessionData(SessionSpec spec, ApplicationInfo application, long creationTime)
    {
        public SessionSpec Spec { get; } = spec;
        public ApplicationInfo Application { get; } = application;
        public SessionState State { get; set; } = SessionState.Open;
        public long CreationTime { get; } = creationTime;
        public long? CompletionTime { get; set; }
        public List<FlameEvent> Events { get; } = [];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} created for application {Application}")]
    private partial void LogCreated(string sessionId, string application);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} closed; {Cancelled} pending task(s) cancelled")]
    private partial void LogClosed(string sessionId, int cancelled);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} deleted")]
    private partial void LogDeleted(string sessionId);
}
