using System.Text;
using Flame.Client;
using Flame.SessionManager.Tests.Support;

namespace Flame.SessionManager.Tests;

/// <summary>The contract over gRPC: <see cref="GrpcFlameClient"/> talking to the gateway.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GrpcFlameClientTests(GatewayFixture gateway) : FlameClientContract(gateway)
{
    protected override IFlameClient CreateClient() => new GrpcFlameClient(Gateway.Endpoint);

    [Fact]
    public async Task AnEndpointWithoutAScheme_IsTakenAsPlaintextHttp()
    {
        await using var client = new GrpcFlameClient(new Uri(Gateway.Endpoint).Authority);

        Assert.Empty(await client.ListNodesAsync().ToListAsync());
    }

    [Fact]
    public async Task AnUnreachableGateway_IsUnavailable()
    {
        await using var client = new GrpcFlameClient($"http://127.0.0.1:{FreePorts.Next()}");

        var error = await Assert.ThrowsAsync<FlameException>(() => Wait.For(client.GetSessionAsync("s"), "the refused connection to fail the call"));

        Assert.Equal(FlameErrorKind.Unavailable, error.Kind);
    }
}
