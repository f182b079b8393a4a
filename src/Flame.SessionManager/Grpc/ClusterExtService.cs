using Flame.Client;
using Flame.SessionManager.Options;
using Flame.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Flame.SessionManager.Grpc;

/// <summary>The control plane's health as this gateway sees it: silos from the membership, nodes, executors, sessions.</summary>
internal sealed class ClusterExtService(
    IGrainFactory grains,
    ILocalSiloDetails local,
    IOptions<ClusterOptions> cluster,
    IOptions<FlameClusterOptions> flameCluster,
    OrleansFlameClient flame) : ClusterExt.ClusterExtBase
{
    public override async Task<ClusterStatus> GetClusterStatus(GetClusterStatusRequest request, ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        var status = new ClusterStatus
        {
            ClusterId = cluster.Value.ClusterId,
            ServiceId = cluster.Value.ServiceId,
            Membership = flameCluster.Value.Provider.ToString(),
        };

        // Dead silos stay in the membership table until cleaned up; they are not part of the cluster any more.
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false);
        foreach (var host in hosts.Where(h => h.Status != Orleans.Runtime.SiloStatus.Dead).OrderBy(h => h.SiloName, StringComparer.Ordinal))
        {
            status.Silos.Add(new V1.SiloStatus
            {
                Name = host.SiloName ?? "",
                Address = host.SiloAddress.Endpoint.ToString(),
                Status = host.Status.ToString(),
                StartTime = new DateTimeOffset(DateTime.SpecifyKind(host.StartTime, DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
                IsLocal = host.SiloAddress.Equals(local.SiloAddress),
            });
        }

        await foreach (var node in flame.ListNodesAsync(cancellation))
        {
            if (node.State == NodeState.Ready)
                status.NodesReady++;
            else
                status.NodesNotReady++;
        }
        await foreach (var executor in flame.ListExecutorsAsync(cancellation))
        {
            status.Executors++;
            if (executor.State == ExecutorState.Bound)
                status.ExecutorsBound++;
        }
        // The open ones only, read from the store a page at a time: no session grain is woken to count it.
        await foreach (var _ in flame.ListSessionsAsync(new SessionFilter { State = SessionState.Open, PageSize = 10_000 }, cancellation))
            status.SessionsOpen++;
        return status;
    }
}
