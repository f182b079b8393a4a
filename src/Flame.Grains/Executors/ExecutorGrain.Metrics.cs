using Flame.Grains.Diagnostics;

namespace Flame.Grains.Executors;

public sealed partial class ExecutorGrain
{
    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ExecutorMetrics.Track(this, () => _executor?.State);
        return base.OnActivateAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ExecutorMetrics.Forget(this);
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>A bind ended: counted, and a good one timed from its assignment (<see cref="ExecutorInfo.BoundAt"/>).</summary>
    private void CountBind(bool bound, long? assignedAt)
    {
        if (!bound)
        {
            FlameMetrics.ExecutorBindFailures.Add(1);
            return;
        }
        FlameMetrics.ExecutorBinds.Add(1);
        if (assignedAt is { } at)
            FlameMetrics.ExecutorBindLatency.Record(Math.Max(0, Now - at) / 1000.0);
    }
}
