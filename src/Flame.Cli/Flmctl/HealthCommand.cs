using System.CommandLine;
using Flame.Client;
using Flame.Client.Configuration;
using Flame.Wire;
using Grpc.Core;
using Grpc.Health.V1;

namespace Flame.Cli.Control;

/// <summary>
/// <c>flmctl health</c>: the grpc.health.v1 status of every configured gateway, and the silos and nodes of the
/// cluster as a gateway sees them (flame.v1.ClusterExt/GetClusterStatus). Exit 0 when every gateway is SERVING and
/// every silo is Active, 1 otherwise; when no gateway answers, one line on stderr and exit 1.
/// </summary>
internal static class HealthCommand
{
    /// <summary>The health status shown for a gateway that did not answer.</summary>
    public const string Unreachable = "UNREACHABLE";

    /// <summary>What one gateway's health service said: a <c>ServingStatus</c> name, <see cref="Unreachable"/> or the gRPC status code.</summary>
    public sealed record GatewayHealth(string Endpoint, string Health, string? Detail)
    {
        public bool Serving => Health == nameof(HealthCheckResponse.Types.ServingStatus.Serving).ToUpperInvariant();
    }

    public static Command Command(TextWriter stdout, bool color,
        Func<Command, Func<ParseResult, FlameConnection, CancellationToken, Task<int>>, Command> connected)
    {
        var output = new Option<string>("--output", "-o") { Description = "Output format", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json", "yaml");
        var command = new Command("health", "Shows the health of every gateway and the silos and nodes of the cluster; exit 1 unless all are well") { output };
        return connected(command, async (parse, connection, ct) =>
        {
            var gateways = await Task.WhenAll(connection.Endpoints.Select(e => CheckAsync(connection with { Endpoints = [e] }, ct)));
            if (gateways.All(g => g.Health == Unreachable))
                throw new FlameException(FlameErrorKind.Unavailable, $"no gateway answered: {gateways[0].Detail}");

            V1.ClusterStatus status;
            using (var channel = GrpcFlameClient.CreateChannel(connection))
            {
                try
                {
                    status = await new V1.ClusterExt.ClusterExtClient(channel).GetClusterStatusAsync(new V1.GetClusterStatusRequest(), cancellationToken: ct);
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
                {
                    throw new FlameException(FlameErrorKind.Internal, "the gateway does not serve flame.v1.ClusterExt (a server older than this flmctl?)");
                }
                catch (RpcException ex)
                {
                    throw FlameStatus.FromRpcException(ex);
                }
            }

            var healthy = gateways.All(g => g.Serving) && status.Silos.Count > 0 && status.Silos.All(s => s.Status == "Active");
            Flmctl.Print(stdout, parse.GetValue(output)!, Document(gateways, status, healthy), w => Write(w, gateways, status, color));
            return healthy ? 0 : CliErrors.Failed;
        });
    }

    /// <summary>Asks one gateway's grpc.health.v1 service for the server's overall status.</summary>
    private static async Task<GatewayHealth> CheckAsync(FlameConnection one, CancellationToken ct)
    {
        var endpoint = one.Display;
        using var channel = GrpcFlameClient.CreateChannel(one);
        try
        {
            var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: ct);
            return new GatewayHealth(endpoint, StatusName(reply.Status), null);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return new GatewayHealth(endpoint, Unreachable, $"{endpoint}: {ex.Status.Detail}");
        }
        catch (RpcException ex)
        {
            // UNIMPLEMENTED: a gateway without the health service; shown as such, never taken for serving.
            return new GatewayHealth(endpoint, ex.StatusCode.ToString().ToUpperInvariant(), $"{endpoint}: {ex.Status.Detail}");
        }
    }

    // SERVING, NOT_SERVING, SERVICE_UNKNOWN, UNKNOWN: the names of grpc.health.v1.
    private static string StatusName(HealthCheckResponse.Types.ServingStatus status) => status switch
    {
        HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
        HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => status.ToString().ToUpperInvariant(),
    };

    private static void Write(TextWriter w, IReadOnlyList<GatewayHealth> gateways, V1.ClusterStatus status, bool color)
    {
        var gatewayTable = new Table("GATEWAY", "HEALTH") { Color = color }
            .ColorColumn(1, h => h == "SERVING" ? Ansi.Green : Ansi.Red);
        foreach (var g in gateways)
            gatewayTable.Add(g.Endpoint, g.Health);
        gatewayTable.WriteTo(w);
        w.WriteLine();

        new Table("CLUSTER", "SERVICE", "MEMBERSHIP", "NODES READY", "NODES NOT READY", "EXECUTORS", "BOUND", "OPEN SESSIONS")
            .Add(status.ClusterId, status.ServiceId, status.Membership, status.NodesReady.ToString(), status.NodesNotReady.ToString(),
                status.Executors.ToString(), status.ExecutorsBound.ToString(), status.SessionsOpen.ToString())
            .WriteTo(w);
        w.WriteLine();

        var silos = new Table("SILO", "ADDRESS", "STATUS", "STARTED", "ANSWERED") { Color = color }
            .ColorColumn(2, s => s == "Active" ? Ansi.Green : s is "Joining" or "Created" ? Ansi.Yellow : Ansi.Red);
        foreach (var s in status.Silos)
            silos.Add(s.Name, s.Address, s.Status, s.StartTime > 0 ? Units.LocalTime(s.StartTime) : null, s.IsLocal ? "yes" : "");
        silos.WriteTo(w);
    }

    private static HealthDocument Document(IReadOnlyList<GatewayHealth> gateways, V1.ClusterStatus status, bool healthy) => new(
        healthy, [.. gateways.Select(g => new GatewayDocument(g.Endpoint, g.Health, g.Detail))],
        status.ClusterId, status.ServiceId, status.Membership,
        [.. status.Silos.Select(s => new SiloDocument(s.Name, s.Address, s.Status, s.StartTime > 0 ? Units.IsoTime(s.StartTime) : null, s.IsLocal))],
        status.NodesReady, status.NodesNotReady, status.Executors, status.ExecutorsBound, status.SessionsOpen);
}
