using Orleans.Concurrency;

namespace Flame.Grains;

/// <summary>
/// One executor (a slot of an executor manager), keyed by executor id. Owns the executor's state
/// machine: Void → Idle → Binding → Bound → Unbinding → Idle … → Releasing → Released. Every call
/// that would make an illegal transition is refused with FailedPrecondition and changes nothing.
/// </summary>
[Alias("flame.IExecutorGrain")]
public interface IExecutorGrain : IGrainWithStringKey
{
    /// <summary>The scheduler asked node <paramref name="node"/> to create this executor for <paramref name="sessionId"/> (state Void).</summary>
    [Alias("Create")] Task CreateAsync(string node, string? sessionId, ResourceRequirement resReq);
    /// <summary>The executor manager registered the executor (Void or new → Idle).</summary>
    [Alias("Register")] Task<ExecutorInfo> RegisterAsync(ExecutorInfo executor);
    /// <summary>
    /// Long-poll for a session to enter. Returns the binding once the scheduler assigned one; <see cref="PollResult{T}.Done"/>
    /// when the executor has been idle too long, or the scheduler released it, and it should be unregistered;
    /// <see cref="PollResult{T}.Wait"/> to poll again.
    /// </summary>
    [AlwaysInterleave, Alias("Bind")] Task<PollResult<SessionBinding>> BindAsync();
    /// <summary>The scheduler gives the executor a session (Idle → Binding). False if the executor is not idle.</summary>
    [Alias("Assign")] Task<bool> AssignAsync(string sessionId);
    /// <summary>
    /// The service entered the session (<paramref name="returnCode"/> 0: Binding → Bound), or failed to (Binding → Idle;
    /// Flame's codes: 10 installation, 11 shim creation, 12 OnSessionEnter), which the session records as event 1001.
    /// </summary>
    [Alias("BindCompleted")] Task BindCompletedAsync(int returnCode, string? message);
    /// <summary>The executor is leaving its session (Bound → Unbinding).</summary>
    [Alias("Unbind")] Task UnbindAsync();
    /// <summary>The service left the session (Unbinding → Idle).</summary>
    [Alias("UnbindCompleted")] Task UnbindCompletedAsync();
    /// <summary>
    /// The scheduler releases an idle executor (Idle → Releasing): its pending or next BindExecutor is answered "no
    /// more work", and the executor manager unregisters it. False if it is not idle.
    /// </summary>
    [Alias("ReleaseIdle")] Task<bool> ReleaseIdleAsync(string reason);
    /// <summary>The executor manager removed the executor (→ Released).</summary>
    [Alias("Unregister")] Task UnregisterAsync();
    /// <summary>The executor's node died or left (→ Released); its running task goes back to the queue.</summary>
    [Alias("Lost")] Task LostAsync(string reason);
    /// <summary>
    /// Like <see cref="LostAsync"/>, but leaves detaching from the session to the caller and returns the session the
    /// executor served (or null): a node losing all its executors detaches them from each session at once, so that
    /// a requeued task is never handed to another executor of the same dead node.
    /// </summary>
    [Alias("Lose")] Task<string?> LoseAsync(string reason);
    /// <summary>The executor now; NotFound if it was never created or registered.</summary>
    [Alias("Get")] Task<ExecutorInfo> GetAsync();
    /// <summary>
    /// Tells the scheduler the executor's state again (Released if this grain does not know it): a scheduler that came
    /// back on another silo rebuilds its view of the executors from these.
    /// </summary>
    [OneWay, Alias("Report")] Task ReportAsync();
}

/// <summary>One node running an executor manager, keyed by node name: capacity, heartbeat, executors.</summary>
[Alias("flame.INodeGrain")]
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>
    /// The executor manager (re)registered the node; it is Ready. Executors the node had before and that are not in
    /// <paramref name="liveExecutors"/> died with the previous executor manager: they are lost. Those in it that the
    /// node did not count (this grain is new: the silo that held it died) are counted at once, at the size given, and
    /// kept if the cluster still knows them.
    /// </summary>
    [Alias("Register")] Task<NodeInfo> RegisterAsync(NodeInfo node, IReadOnlyList<ExecutorInfo> liveExecutors);
    /// <summary>A heartbeat with the node's current status.</summary>
    [Alias("Heartbeat")] Task HeartbeatAsync(NodeInfo status);
    /// <summary>The executor manager is going away: its executors are released.</summary>
    [Alias("Release")] Task ReleaseAsync();
    /// <summary>The node now; NotFound if it never registered.</summary>
    [Alias("Get")] Task<NodeInfo> GetAsync();
    /// <summary>The executors on the node.</summary>
    [Alias("ListExecutors")] Task<IReadOnlyList<ExecutorInfo>> ListExecutorsAsync();
    /// <summary>The gateway holding the node's WatchNode stream subscribes here (one at a time; a new one replaces the old).</summary>
    [Alias("Watch")] Task WatchAsync(INodeWatcher watcher);
    /// <summary>The stream ended.</summary>
    [Alias("Unwatch")] Task UnwatchAsync(INodeWatcher watcher);
    /// <summary>Asks the node to create an executor; false if the node cannot be told now (not Ready or not watched).</summary>
    [Alias("CreateExecutor")] Task<bool> CreateExecutorAsync(ExecutorInfo executor);
    // One-way: the node calls its executors (LostAsync) and they answer with these; a two-way call
    // back into the busy node would deadlock.

    /// <summary>An executor of the node registered (counts against the node's slots).</summary>
    [OneWay, Alias("ExecutorRegistered")] Task ExecutorRegisteredAsync(ExecutorInfo executor);
    /// <summary>The executor is gone from the node.</summary>
    [OneWay, Alias("ExecutorReleased")] Task ExecutorReleasedAsync(string executorId);
    /// <summary>
    /// Whether the node counts the executor; false from a node that is not registered (its grain is new: the silo that
    /// held it died). Answered even while the node is busy, for executors check their node this way.
    /// </summary>
    [AlwaysInterleave, Alias("Holds")] Task<bool> HoldsAsync(string executorId);
    /// <summary>Asks each of the node's executors to report itself to the scheduler (which has just heard of the node).</summary>
    [OneWay, Alias("ReportExecutors")] Task ReportExecutorsAsync();
}

/// <summary>Receives what a node must do (a grain observer held by the gateway serving its WatchNode stream).</summary>
[Alias("flame.INodeWatcher")]
public interface INodeWatcher : IGrainObserver
{
    /// <summary>An executor for the node to create (state Void) or to stop (state Releasing).</summary>
    [OneWay, Alias("OnExecutor")] Task OnExecutorAsync(ExecutorInfo executor);
}

/// <summary>
/// The scheduler: keeps the cluster view (sessions' demand, executors, nodes) from the events the
/// other grains report, and decides which executor serves which session. One activation, key 0.
/// </summary>
[Alias("flame.ISchedulerGrain")]
public interface ISchedulerGrain : IClusterDirectoryGrain
{
    /// <summary>A session's demand changed.</summary>
    [OneWay, Alias("ReportSession")] Task ReportSessionAsync(SessionDemand demand);
    /// <summary>An executor changed state (Released removes it).</summary>
    [OneWay, Alias("ReportExecutor")] Task ReportExecutorAsync(ExecutorInfo executor);
    /// <summary>A node registered, changed health, or left.</summary>
    [OneWay, Alias("ReportNode")] Task ReportNodeAsync(NodeInfo node);
    /// <summary>Runs one scheduling pass now and returns how many decisions it made (for tests and tools).</summary>
    [Alias("Schedule")] Task<int> ScheduleAsync();
}
