namespace Flame.Grains.Scheduling.Actions;

/// <summary>A decision of the scheduler, carried out by its grain.</summary>
public abstract record SchedulingAction;

/// <summary>Give the idle executor <paramref name="ExecutorId"/> to session <paramref name="SessionId"/>.</summary>
public sealed record BindAction(string ExecutorId, string SessionId) : SchedulingAction;

/// <summary>Ask node <paramref name="Node"/> to create a new executor for session <paramref name="SessionId"/>.</summary>
public sealed record CreateExecutorAction(string Node, string SessionId, ResourceRequirement ResReq) : SchedulingAction;

/// <summary>Everything a scheduling pass looks at.</summary>
public sealed record ClusterView(
    IReadOnlyCollection<SessionDemand> Sessions,
    IReadOnlyCollection<ExecutorInfo> Executors,
    IReadOnlyCollection<NodeInfo> Nodes);

/// <summary>A pure allocation policy: from a view of the cluster to the actions that move it towards the wanted allocation.</summary>
public interface IAllocationPolicy
{
    /// <summary>The actions to take now.</summary>
    IReadOnlyList<SchedulingAction> Plan(ClusterView view);
}
