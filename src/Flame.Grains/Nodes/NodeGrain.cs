using Flame.Grains.Executors;
using Flame.Grains.Hosting;
using Flame.Grains.Scheduling.Plugins;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flame.Grains.Nodes;

/// <summary>One node: capacity, heartbeat and executors. See <see cref="INodeGrain"/>.</summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class NodeGrain(
    IOptions<FlameExecutionOptions> execution,
    TimeProvider clock,
    ILogger<NodeGrain> logger) : Grain, INodeGrain
{
    private readonly FlameExecutionOptions _execution = execution.Value;
    private NodeInfo? _node;
    // Each executor with what it holds, so that the node is never asked for more than it has, and when it was counted
    // (an audit that asked about an executor forgets it only if it was not counted again meanwhile).
    private readonly Dictionary<string, Held> _executors = new(StringComparer.Ordinal);
    private long _counted;
    // When the last heartbeat came, on the monotonic clock (MonotonicTime): liveness must not follow wall-clock jumps.
    private long _heartbeatAt;
    private bool _lostReported;
    private INodeWatcher? _watcher;
    private IGrainTimer? _livenessTimer;
    private IGrainTimer? _auditTimer;

    /// <summary>How often the node checks that the cluster still knows each executor it counts.</summary>
    private static readonly TimeSpan AuditInterval = TimeSpan.FromSeconds(5);

    private string Name => this.GetPrimaryKeyString();

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private long Monotonic => MonotonicTime.Ms(clock);

    public Task<NodeInfo> RegisterAsync(NodeInfo node, IReadOnlyList<ExecutorInfo> liveExecutors)
    {
        FlameIds.ValidateNodeName(Name);
        var live = liveExecutors.Where(e => e.Id.Length > 0).DistinctBy(e => e.Id).ToDictionary(e => e.Id, StringComparer.Ordinal);
        var stale = _executors.Keys.Where(id => !live.ContainsKey(id)).ToList();
        foreach (var id in stale)
            _executors.Remove(id); // here and now: an executor grain lost with its silo would never report a release
        // Counted at once, at the size the executor manager gives, when this grain did not know them (it is new: its
        // silo died); the audit that follows forgets those the cluster lost and takes the others' size from their grains.
        var unknown = live.Values.Where(e => !_executors.ContainsKey(e.Id)).ToList();
        foreach (var executor in unknown)
            Count(executor);
        // Neither waits: an executor grain on a silo that is dying must not hold up the node's heartbeats (nor the
        // scheduler, which waits for CreateExecutor) until the silo is declared dead.
        if (stale.Count > 0)
            _ = LoseAllAsync(stale, $"node '{Name}' registered again without it (its executor manager restarted)");
        if (unknown.Count > 0)
            _ = AuditExecutorsAsync();
        _node = node with { Name = Name, State = NodeState.Ready, LastHeartbeatTime = Now };
        _heartbeatAt = Monotonic;
        _livenessTimer ??= this.RegisterGrainTimer(CheckLivenessAsync,
            new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        // Interleaved: an executor grain on a silo that is dying must not hold up heartbeats while it times out.
        _auditTimer ??= this.RegisterGrainTimer(AuditExecutorsAsync,
            new GrainTimerCreationOptions(AuditInterval, AuditInterval) { Interleave = true });
        Report();
        LogRegistered(Name, Resources.Allocatable(_node).ToString());
        return Task.FromResult(_node);
    }

    public Task HeartbeatAsync(NodeInfo status)
    {
        var node = Existing();
        _node = node with
        {
            State = NodeState.Ready,
            Capacity = status.Capacity,
            Allocatable = status.Allocatable,
            LastHeartbeatTime = Now,
        };
        _heartbeatAt = Monotonic;
        // Every heartbeat, not only changes: the cluster view is what ListNode shows, heartbeat time included.
        Report();
        return Task.CompletedTask;
    }

    public async Task ReleaseAsync()
    {
        var node = Existing();
        await LoseExecutorsAsync($"node '{Name}' was released");
        _node = node with { State = NodeState.NotReady };
        Report();
        LogReleased(Name);
    }

    public Task<NodeInfo> GetAsync() => Task.FromResult(Existing());

    public async Task<IReadOnlyList<ExecutorInfo>> ListExecutorsAsync() =>
        (await Task.WhenAll(_executors.Keys.Select(id => ExecutorLookup.AskAsync(GrainFactory, id))))
            .Select(l => l.Executor).OfType<ExecutorInfo>().ToList();

    public Task WatchAsync(INodeWatcher watcher)
    {
        Existing();
        var wasWatched = _watcher is not null;
        _watcher = watcher;
        if (!wasWatched)
            Report(); // it can take executors from now on
        return Task.CompletedTask;
    }

    public Task UnwatchAsync(INodeWatcher watcher)
    {
        if (Equals(_watcher, watcher))
        {
            _watcher = null;
            Report(); // nobody can tell it to create executors any more
        }
        return Task.CompletedTask;
    }

    public Task<bool> CreateExecutorAsync(ExecutorInfo executor)
    {
        ReportIfLost();
        if (_node?.State != NodeState.Ready || _watcher is null || !NodeCapacity.Fits(Free(_node), Resources.Of(executor.ResReq)))
            return Task.FromResult(false);
        Count(executor);
        _ = _watcher.OnExecutorAsync(executor); // one-way
        return Task.FromResult(true);
    }

    public Task ExecutorRegisteredAsync(ExecutorInfo executor)
    {
        Count(executor);
        return Task.CompletedTask;
    }

    public Task ExecutorReleasedAsync(string executorId)
    {
        _executors.Remove(executorId);
        return Task.CompletedTask;
    }

    public Task<bool> HoldsAsync(string executorId)
    {
        ReportIfLost();
        if (_node is null || !_executors.TryGetValue(executorId, out var held))
            return Task.FromResult(false);
        _executors[executorId] = held with { AskedAt = Monotonic }; // alive, and knows itself: the audit can skip it
        return Task.FromResult(true);
    }

    /// <summary>
    /// A grain that knows no node (the silo that held it died, and its executor manager has not registered it again)
    /// tells the scheduler once that the node is NotReady: its view would otherwise keep it Ready, and order executors
    /// of it, for ever.
    /// </summary>
    private void ReportIfLost()
    {
        if (_node is not null || _lostReported)
            return;
        _lostReported = true;
        _ = GrainFactory.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key).ReportNodeAsync(new NodeInfo { Name = Name, State = NodeState.NotReady });
    }

    public Task ReportExecutorsAsync()
    {
        foreach (var id in _executors.Keys)
            _ = GrainFactory.GetGrain<IExecutorGrain>(id).ReportAsync(); // one-way
        return Task.CompletedTask;
    }

    private Resources Free(NodeInfo node)
    {
        var free = Resources.Allocatable(node);
        foreach (var held in _executors.Values)
            free -= held.Resources;
        return free;
    }

    private async Task CheckLivenessAsync()
    {
        if (_node is not { State: NodeState.Ready } node)
            return;
        var silentMs = Monotonic - _heartbeatAt;
        if (silentMs <= 1000L * _execution.NodeHeartbeatTimeoutSeconds)
            return;
        _node = node with { State = NodeState.NotReady };
        LogNotReady(Name, silentMs / 1000.0);
        Report();
        await LoseExecutorsAsync($"node '{Name}' stopped heartbeating ({silentMs / 1000.0:0.#}s without a heartbeat)");
    }

    /// <summary>
    /// Forgets the executors whose grains no longer know them. An executor grain is not persisted: one that lived on
    /// a silo that died comes back empty, its executor manager releases the executor when the gateway says so, and
    /// nobody would ever tell this node, which would then refuse every new executor for want of room it has.
    /// </summary>
    private async Task AuditExecutorsAsync()
    {
        // An executor that asked HoldsAsync lately is alive: only the others (not registered yet, or silent) are looked up.
        var quiet = Monotonic - 2000L * _execution.NodeHeartbeatTimeoutSeconds;
        var counted = _executors.Where(e => e.Value.AskedAt < quiet).Select(e => (Id: e.Key, e.Value.Since)).ToList();
        if (counted.Count == 0)
            return;
        var lookups = await Task.WhenAll(counted.Select(e => ExecutorLookup.AskAsync(GrainFactory, e.Id)));
        for (var i = 0; i < counted.Count; i++)
        {
            var (id, since) = counted[i];
            // Nothing is changed for an executor counted again while the grains were asked (it may have registered anew).
            if (!lookups[i].Answered || !_executors.TryGetValue(id, out var held) || held.Since != since)
                continue;
            if (!lookups[i].Gone && lookups[i].Executor is { } executor && executor.Node == Name)
            {
                _executors[id] = held with { Resources = Resources.Of(executor.ResReq) }; // what the scheduler asked for
                continue;
            }
            _executors.Remove(id);
            LogExecutorForgotten(Name, id);
            ExecutorLookup.ReportGone(GrainFactory, id, Name); // the scheduler's view may hold it (an idle one, say)
        }
    }

    private void Count(ExecutorInfo executor) =>
        _executors[executor.Id] = new Held(Resources.Of(executor.ResReq), ++_counted, AskedAt: long.MinValue);

    private async Task LoseAllAsync(IReadOnlyList<string> ids, string reason)
    {
        try
        {
            await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<IExecutorGrain>(id).LostAsync(reason)));
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or FlameException)
        {
            LogLoseFailed(ex, Name);
        }
    }

    private readonly record struct Held(Resources Resources, long Since, long AskedAt = 0);

    /// <summary>
    /// Releases every executor of the node, then detaches them from their sessions one session at a time, all of a
    /// session's at once: a task requeued from one of them must not be handed to another executor of this node.
    /// </summary>
    private async Task LoseExecutorsAsync(string reason)
    {
        var bySession = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var id in _executors.Keys.ToList())
            if (await GrainFactory.GetGrain<IExecutorGrain>(id).LoseAsync(reason) is { } sessionId)
                (bySession.TryGetValue(sessionId, out var ids) ? ids : bySession[sessionId] = []).Add(id);
        _executors.Clear();
        foreach (var (sessionId, ids) in bySession)
            await GrainFactory.GetGrain<ISessionGrain>(sessionId).DetachExecutorsAsync(ids, $"{ids.Count} executor(s) of node '{Name}' were lost: {reason}");
    }

    /// <summary>
    /// Tells the scheduler about the node. A node nobody watches (its executor manager has not opened WatchNode yet,
    /// or the stream broke) cannot be asked for executors, so the scheduler sees it NotReady until it is watched.
    /// </summary>
    private void Report() =>
        _ = GrainFactory.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key)
            .ReportNodeAsync(_watcher is null && _node!.State == NodeState.Ready ? _node with { State = NodeState.NotReady } : _node!);

    private NodeInfo Existing() =>
        _node ?? throw FlameException.NotFound($"node '{Name}' not found");
}
