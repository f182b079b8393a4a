using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// Healthy while this silo is an Active member of its cluster: before it has joined, and from the moment it starts
/// shutting down, the gateway answers NOT_SERVING on grpc.health.v1 and 503 on <c>/healthz</c>.
/// </summary>
internal sealed class SiloHealthCheck(IClusterMembershipService membership, ILocalSiloDetails local) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {local.Name} is active")
            : HealthCheckResult.Unhealthy($"silo {local.Name} is {status}"));
    }
}
