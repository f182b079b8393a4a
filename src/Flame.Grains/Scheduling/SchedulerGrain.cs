using Flame.Grains.Scheduling.Actions;
using Flame.Grains.Scheduling.Plugins;
using Flame.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flame.Grains.Scheduling;

/// <summary>
/// The scheduler and the cluster view it keeps. See <see cref="ISchedulerGrain"/>. Passes run when
/// events arrive (coalesced: a burst of events costs one pass) and once a second, so that a missed
/// event or a refused action is corrected without anyone re-reading the cluster.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class SchedulerGrain(IOptions<FlameSchedulingOptions> scheduling, ILogger<SchedulerGrain> logger)
    : Grain, ISchedulerGrain
{
    private readonly SchedulingOptions _options = scheduling.Value.ToPolicyOptions();
    private IAllocationPolicy? _policy;
    private IAllocationPolicy Policy => _policy ??= new SchedulingPolicy(_options);
    private readonly Dictionary<string, SessionDemand> _sessions = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, ExecutorInfo> _executors = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, NodeInfo> _nodes = new(StringComparer.Ordinal);
    private IGrainTimer? _soon;
    private readonly Dictionary<string, DateTime> _refusedUntil = new(StringComparer.Ordinal);
    // Planned preemptions by executor, kept for SchedulingOptions.PreemptionMemory (see PreemptAction).
    private readonly Dictionary<string, Preemption> _preemptions = new(StringComparer.Ordinal);
    // Sessions told that no node runs their shim, while it lasts: told once, not every pass.
    private HashSet<string> _toldNoNodeForShim = new(StringComparer.Ordinal);

    /// <summary>How long a node that refused an executor is left out of allocation.</summary>
    private static readonly TimeSpan RefusalBackoff = TimeSpan.FromSeconds(2);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(() => ScheduleAsync(), new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        // The view is built from reports: after a restart (or a move to another silo) the open sessions must report
        // again, including those whose grains are not active yet. One-way, so that activation does not wait on it.
        _ = GrainFactory.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).WakeOpenSessionsAsync();
        return Task.CompletedTask;
    }

    public Task ReportSessionAsync(SessionDemand demand)
    {
        if (demand.Deleted)
            _sessions.Remove(demand.SessionId);
        else
            _sessions[demand.SessionId] = demand;
        ScheduleSoon();
        return Task.CompletedTask;
    }

    public Task ReportExecutorAsync(ExecutorInfo executor)
    {
        if (executor.State == ExecutorState.Released)
            _executors.Remove(executor.Id);
        else
            _executors[executor.Id] = executor;
        ScheduleSoon();
        return Task.CompletedTask;
    }

    public Task ReportNodeAsync(NodeInfo node)
    {
        // Nodes report every heartbeat (so that listings show it); only a change of state or size can change a plan.
        var known = _nodes.TryGetValue(node.Name, out var old);
        var changed = !known || old!.State != node.State || Resources.Allocatable(old) != Resources.Allocatable(node)
            || ShimMatch.MaskOf(old) != ShimMatch.MaskOf(node);
        _nodes[node.Name] = node;
        if (!known)
            // New to this view: a new node has no executors, but this grain may be new (its silo died) and the node's
            // executors, idle ones included, report only when they change. One-way.
            _ = GrainFactory.GetGrain<INodeGrain>(node.Name).ReportExecutorsAsync();
        if (changed)
            ScheduleSoon();
        return Task.CompletedTask;
    }

    public async Task<int> ScheduleAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var now = DateTime.UtcNow;
        foreach (var (node, until) in _refusedUntil.ToList())
            if (until <= now)
                _refusedUntil.Remove(node);
        // A node that refused lately is shown NotReady, not left out: it still runs its shims (ShimMatch), and a session
        // whose shim only it runs is not told that no node runs it.
        var nodes = _refusedUntil.Count == 0 ? _nodes.Values
            : (IReadOnlyCollection<NodeInfo>)_nodes.Values.Select(n => _refusedUntil.ContainsKey(n.Name) ? n with { State = NodeState.NotReady } : n).ToList();
        var nowMs = new DateTimeOffset(now).ToUnixTimeMilliseconds();
        ForgetOldPreemptions(nowMs);
        var actions = Policy.Plan(new ClusterView(_sessions.Values, _executors.Values, nodes)
        {
            Now = nowMs,
            Preemptions = _preemptions.Values,
        });
        HashSet<string>? noNodeForShim = null;
        foreach (var action in actions)
        {
            switch (action)
            {
                case NoNodeForShimAction wait:
                    (noNodeForShim ??= new(StringComparer.Ordinal)).Add(wait.SessionId);
                    if (!_toldNoNodeForShim.Contains(wait.SessionId))
                    {
                        LogNoNodeForShim(wait.SessionId, wait.Shim);
                        _ = Session(wait.SessionId).RecordDecisionAsync(SessionEventCodes.NoNodeForShim, wait.Reason);
                    }
                    break;
                case BindAction bind:
                    if (await OnIdleExecutorAsync(bind.ExecutorId, e => e.AssignAsync(bind.SessionId)))
                    {
                        _executors[bind.ExecutorId] = _executors[bind.ExecutorId] with { State = ExecutorState.Binding, SessionId = bind.SessionId, BoundAt = nowMs };
                        _ = Session(bind.SessionId).RecordDecisionAsync(SessionEventCodes.ExecutorAssigned,
                            $"idle executor '{bind.ExecutorId}' assigned{Because(bind.Reason)}");
                    }
                    break;
                case PreemptAction preempt:
                    // Remembered (the policy counts it and will not undo it); the session lets the executor go at its
                    // next task boundary, and once it is idle the next pass binds it to ForSession.
                    Diagnostics.FlameMetrics.Preemptions.Add(1);
                    _preemptions[preempt.ExecutorId] = new Preemption(preempt.ExecutorId, preempt.FromSession, preempt.ForSession, nowMs, preempt.Release);
                    LogPreemptionPlanned(preempt.ExecutorId, preempt.FromSession, preempt.ForSession, preempt.Reason);
                    var why = preempt.Release
                        ? $"{preempt.Reason}; it is then released, to make room for a larger executor"
                        : preempt.Reason;
                    _ = Session(preempt.FromSession).PreemptExecutorAsync(preempt.ExecutorId, preempt.ForSession, why);
                    break;
                case ReleaseAction release:
                    if (await OnIdleExecutorAsync(release.ExecutorId, e => e.ReleaseIdleAsync(release.Reason)))
                    {
                        _executors[release.ExecutorId] = _executors[release.ExecutorId] with { State = ExecutorState.Releasing };
                        LogReleasingPreempted(release.ExecutorId, release.Reason);
                        _ = Session(release.ForSession).RecordDecisionAsync(SessionEventCodes.ExecutorAssigned,
                            $"executor '{release.ExecutorId}' is released{Because(release.Reason)}");
                    }
                    break;
                case CreateExecutorAction create:
                    await CreateExecutorAsync(create);
                    break;
            }
        }
        // Forgotten once a node runs the shim (or the session has no demand): told again if it happens again.
        _toldNoNodeForShim = noNodeForShim ?? (_toldNoNodeForShim.Count == 0 ? _toldNoNodeForShim : new(StringComparer.Ordinal));
        Diagnostics.FlameMetrics.SchedulerPass.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        // A state that lasts, not a decision: a pass that only finds such sessions changed nothing.
        return actions.Count - (noNodeForShim?.Count ?? 0);
    }

    public Task<IReadOnlyList<NodeInfo>> ListNodesAsync() =>
        Task.FromResult<IReadOnlyList<NodeInfo>>(_nodes.Values.ToArray());

    public Task<NodeInfo> GetNodeAsync(string name)
    {
        FlameIds.ValidateNodeName(name);
        return _nodes.TryGetValue(name, out var node)
            ? Task.FromResult(node)
            : throw FlameException.NotFound($"node '{name}' not found");
    }

    public Task<IReadOnlyList<ExecutorInfo>> ListExecutorsAsync() =>
        Task.FromResult<IReadOnlyList<ExecutorInfo>>(_executors.Values.ToArray());

    private ISessionGrain Session(string id) => GrainFactory.GetGrain<ISessionGrain>(id);

    /// <summary>
    /// Asks an idle executor's grain to act (bind, release): false if it refused, and one whose grain no longer knows
    /// it (its silo died) leaves the view.
    /// </summary>
    private async Task<bool> OnIdleExecutorAsync(string executorId, Func<IExecutorGrain, Task<bool>> act)
    {
        try
        {
            return await act(GrainFactory.GetGrain<IExecutorGrain>(executorId));
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
        {
            _executors.Remove(executorId);
            return false;
        }
    }

    private static string Because(string reason) => string.IsNullOrEmpty(reason) ? "" : $": {reason}";

    private async Task CreateExecutorAsync(CreateExecutorAction create)
    {
        var id = $"{create.Node}-{Guid.NewGuid():N}"[..Math.Min(create.Node.Length + 13, 253)];
        var executor = new ExecutorInfo
        {
            Id = id,
            Node = create.Node,
            ResReq = create.ResReq,
            Shim = create.Shim,
            State = ExecutorState.Void,
            SessionId = create.SessionId,
        };
        _executors[id] = executor;
        var grain = GrainFactory.GetGrain<IExecutorGrain>(id);
        await grain.CreateAsync(create.Node, create.SessionId, create.ResReq);
        if (!await GrainFactory.GetGrain<INodeGrain>(create.Node).CreateExecutorAsync(executor))
        {
            _executors.Remove(id);
            // Leave the node out for a while, or the next pass (triggered by this very release) would ask it again at once.
            _refusedUntil[create.Node] = DateTime.UtcNow + RefusalBackoff;
            await grain.LostAsync($"node '{create.Node}' could not take it");
            return;
        }
        LogCreating(id, create.Node, create.SessionId);
        _ = Session(create.SessionId).RecordDecisionAsync(SessionEventCodes.ExecutorAssigned,
            $"new executor '{id}' asked of node '{create.Node}'{Because(create.Reason)}");
    }

    private void ForgetOldPreemptions(long nowMs)
    {
        if (_preemptions.Count == 0)
            return;
        var oldest = nowMs - (long)_options.PreemptionMemory.TotalMilliseconds;
        foreach (var (id, p) in _preemptions.ToList())
            if (p.At < oldest || !_executors.ContainsKey(id))
                _preemptions.Remove(id);
    }

    private void ScheduleSoon()
    {
        _soon ??= this.RegisterGrainTimer(async () =>
        {
            _soon?.Dispose();
            _soon = null;
            await ScheduleAsync();
        }, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan));
    }
}
