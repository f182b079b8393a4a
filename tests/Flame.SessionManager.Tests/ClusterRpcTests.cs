using Flame.SessionManager.Tests.Support;
using Grpc.Core;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>ListExecutor, ListNodes, GetNode over gRPC. No executor manager exists yet, so the cluster is empty.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ClusterRpcTests(GatewayFixture gateway)
{
    private Frontend.FrontendClient Frontend => gateway.Frontend;

    [Fact]
    public async Task ListExecutor_IsEmpty_WithoutExecutorManagers()
    {
        var list = await Frontend.ListExecutorAsync(new ListExecutorRequest());

        Assert.Empty(list.Executors);
    }

    [Fact]
    public async Task ListNodes_IsEmpty_WithoutExecutorManagers()
    {
        var list = await Frontend.ListNodesAsync(new ListNodesRequest());

        Assert.Empty(list.Nodes);
    }

    [Fact]
    public async Task GetNode_Fails_WhenNodeIsUnknown()
    {
        var name = Names.Unique("node");

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.GetNodeAsync(new GetNodeRequest { Name = name })), $"node '{name}' not found");
    }

    [Theory]
    [InlineData("", "node name is empty")]
    [InlineData("bad node", "' '")]
    public async Task GetNode_Fails_WhenNameIsMalformed(string name, string mention)
    {
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.GetNodeAsync(new GetNodeRequest { Name = name })), "node name", mention);
    }
}

/// <summary>The operator's view of one silo on localhost membership: ClusterExt, grpc.health.v1, reflection, /healthz.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ClusterHealthTests(GatewayFixture gateway)
{
    [Fact]
    public async Task GetClusterStatus_ShowsTheOneLocalSilo_Active()
    {
        var status = await new ClusterExt.ClusterExtClient(gateway.Channel).GetClusterStatusAsync(new GetClusterStatusRequest());

        Assert.Equal("Localhost", status.Membership);
        var silo = Assert.Single(status.Silos);
        Assert.Equal("Active", silo.Status);
        Assert.True(silo.IsLocal);
        Assert.StartsWith("127.0.0.1:", silo.Address);
        Assert.True(silo.StartTime > 0);
        Assert.Equal(0, status.NodesReady);
    }

    [Fact]
    public async Task GrpcHealth_IsServing()
    {
        var health = await new global::Grpc.Health.V1.Health.HealthClient(gateway.Channel).CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest());

        Assert.Equal(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task Healthz_AnswersHealthy_OverHttp2()
    {
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var response = await http.GetAsync($"{gateway.Endpoint}/healthz");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Reflection_ListsTheFlameServices()
    {
        var reflection = new global::Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(gateway.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new global::Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("flame.v1.Frontend", services);
        Assert.Contains("flame.v1.Backend", services);
        Assert.Contains("flame.v1.ClusterExt", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }
}
