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
