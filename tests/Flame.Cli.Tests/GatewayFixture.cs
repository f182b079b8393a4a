using Flame.Client;

namespace Flame.Cli.Tests;

/// <summary>A real session manager (silo + gRPC gateway) hosted in the test process, shared by the flmctl tests.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private InProcessGateway? _gateway;

    public string Endpoint => _gateway!.Endpoint;

    /// <summary>A client of the gateway, for arranging what the CLI then reads.</summary>
    public IFlameClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _gateway = await InProcessGateway.StartAsync();
        Client = new GrpcFlameClient(Endpoint);
    }

    public async Task DisposeAsync()
    {
        if (Client is not null)
            await Client.DisposeAsync();
        if (_gateway is not null)
            await _gateway.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
