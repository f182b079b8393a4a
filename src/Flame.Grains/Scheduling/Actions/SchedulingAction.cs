namespace Flame.Grains.Scheduling.Actions;

/// <summary>A decision of the scheduler, carried out by its grain, with the reason for events and logs.</summary>
/// <param name="Reason">Why, in a few words (e.g. "priority 5 > 3", "share 0.25 below fair 0.5").</param>
public abstract record SchedulingAction(string Reason);

/// <summary>Give the idle executor <paramref name="ExecutorId"/> to session <paramref name="SessionId"/>.</summary>
public sealed record BindAction(string ExecutorId, string SessionId, string Reason = "") : SchedulingAction(Reason);

/// <summary>
/// Ask node <paramref name="Node"/> to create a new executor for session <paramref name="SessionId"/>, whose
/// application runs on <paramref name="Shim"/>.
/// </summary>
public sealed record CreateExecutorAction(string Node, string SessionId, ResourceRequirement ResReq, string Reason = "", Shim Shim = Shim.Host) : SchedulingAction(Reason);

/// <summary>
/// Take executor <paramref name="ExecutorId"/> back from session <paramref name="FromSession"/> for session
/// <paramref name="ForSession"/>, which is of higher priority or under its fair share and has pending tasks.
/// </summary>
/// <remarks>
/// The contract for whoever carries it out:
/// <list type="bullet">
/// <item>It happens at a task boundary only: a running task is never killed. The executor finishes the task it
/// runs (if any), takes no further task of <paramref name="FromSession"/>, leaves it (OnSessionLeave) and goes
/// back to Idle; with <c>Release</c> (it is too small for ForSession, but its node has room once it is gone) it is
/// released instead. A preemption whose executor is gone, or no longer bound to FromSession, is dropped.</item>
/// <item>The carrier remembers it (<see cref="ClusterView.Preemptions"/>, with the time it was planned) for
/// <see cref="SchedulingOptions.PreemptionMemory"/>. While the executor still serves FromSession it counts as
/// ForSession's (no second executor is taken for the same need) and is not planned again; once Idle it is reserved:
/// the next pass binds it to ForSession if that still wants one; and no executor is taken from ForSession back for
/// FromSession while ForSession has demand.</item>
/// <item>The plan only picks executors that are Bound, bound at least <see cref="SchedulingOptions.MinBoundTime"/>
/// ago, whose resources (with its node's free room, when released) cover ForSession's requirement, and never leaves
/// FromSession below its min_instances.</item>
/// </list>
/// </remarks>
public sealed record PreemptAction(string ExecutorId, string FromSession, string ForSession, string Reason, bool Release = false) : SchedulingAction(Reason);

/// <summary>
/// Release the idle executor <paramref name="ExecutorId"/>: it was preempted with <c>Release</c>, being too small for
/// the session it was taken for, whose larger executor fits on its node once it is gone. The executor manager is told
/// there is no more work for it and unregisters it; the next pass creates the larger one.
/// </summary>
public sealed record ReleaseAction(string ExecutorId, string ForSession, string Reason = "") : SchedulingAction(Reason);

/// <summary>
/// Session <paramref name="SessionId"/> wants executors but no node of the cluster runs its application's shim
/// <paramref name="Shim"/>: it gets none, and its tasks stay Pending until such a node registers. Planned on every
/// pass while it lasts; the carrier tells the session once.
/// </summary>
public sealed record NoNodeForShimAction(string SessionId, Shim Shim, string Reason) : SchedulingAction(Reason);

/// <summary>
/// A preemption planned at <paramref name="At"/> (Unix epoch milliseconds), as the carrier remembers it;
/// <paramref name="Release"/> as planned (<see cref="PreemptAction.Release"/>).
/// </summary>
public sealed record Preemption(string ExecutorId, string FromSession, string ForSession, long At, bool Release = false);

/// <summary>Everything a scheduling pass looks at.</summary>
public sealed record ClusterView(
    IReadOnlyCollection<SessionDemand> Sessions,
    IReadOnlyCollection<ExecutorInfo> Executors,
    IReadOnlyCollection<NodeInfo> Nodes)
{
    /// <summary>The time of the pass, Unix epoch milliseconds; 0 = not known (then only executors without a bind time may be preempted).</summary>
    public long Now { get; init; }

    /// <summary>Recent preemptions (see <see cref="PreemptAction"/>); older than <see cref="SchedulingOptions.PreemptionMemory"/> they are ignored.</summary>
    public IReadOnlyCollection<Preemption> Preemptions { get; init; } = [];
}

/// <summary>A pure allocation policy: from a view of the cluster to the actions that move it towards the wanted allocation.</summary>
public interface IAllocationPolicy
{
    /// <summary>The actions to take now.</summary>
    IReadOnlyList<SchedulingAction> Plan(ClusterView view);
}

/// <summary>The knobs of <see cref="SchedulingPolicy"/>.</summary>
public sealed record SchedulingOptions
{
    /// <summary>An executor bound more recently than this is not preempted (hysteresis). Default 10 s.</summary>
    public TimeSpan MinBoundTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a preemption is remembered, against taking it back. Default 60 s.</summary>
    public TimeSpan PreemptionMemory { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether to plan preemptions at all. Default true.</summary>
    public bool Preempt { get; init; } = true;
}
