using Flame.Grains.Scheduling.Actions;

namespace Flame.Grains.Scheduling;

/// <summary>
/// The session scheduler's policy: the plugins size and order sessions (<see cref="Plugins.InstanceLimits"/>,
/// <see cref="Plugins.PriorityOrder"/>, <see cref="Plugins.DominantResourceFairness"/>) and account node capacity
/// (<see cref="Plugins.NodeCapacity"/>); the actions run in turn: <see cref="Allocate"/> hands out free capacity,
/// then <see cref="Preempt"/> plans to take executors back for sessions still below their ideal.
/// Pure: the same view gives the same plan. One pass costs O((sessions + executors) log n).
/// </summary>
public sealed class SchedulingPolicy(SchedulingOptions? options = null) : IAllocationPolicy
{
    private readonly SchedulingOptions _options = options ?? new SchedulingOptions();

    public IReadOnlyList<SchedulingAction> Plan(ClusterView view)
    {
        var pass = new SchedulingPass(view, _options);
        var actions = new List<SchedulingAction>();
        Allocate.Plan(pass, actions);
        if (_options.Preempt)
            Preempt.Plan(pass, actions);
        return actions;
    }
}
