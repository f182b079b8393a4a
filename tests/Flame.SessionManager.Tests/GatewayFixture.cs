using Flame.SessionManager.Hosting;
using Flame.V1;
using Grpc.Net.Client;

namespace Flame.SessionManager.Tests;

/// <summary>
/// A real session manager (silo + gRPC gateway) hosted in the test process on free loopback ports,
/// called over real HTTP/2 with Grpc.Net.Client, as any external client would.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    /// <summary>Small limits so that tests can exceed them cheaply.</summary>
    public const int MaxTaskInputBytes = 64 * 1024;
    public const int MaxCommonDataBytes = 128 * 1024;

    private WebApplication? _app;

    public string Endpoint { get; } = $"http://127.0.0.1:{FreePorts.Next()}";

    public GrpcChannel Channel { get; private set; } = null!;

    public Frontend.FrontendClient Frontend { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _app = SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = Endpoint,
            ["Flame:SessionManager:SiloPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:OrleansGatewayPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Flame:Limits:MaxTaskInputBytes"] = MaxTaskInputBytes.ToString(),
            ["Flame:Limits:MaxCommonDataBytes"] = MaxCommonDataBytes.ToString(),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await _app.StartAsync();
        Channel = GrpcChannel.ForAddress(Endpoint, Flame.Client.GrpcFlameClient.CreateChannelOptions());
        Frontend = new Frontend.FrontendClient(Channel);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
