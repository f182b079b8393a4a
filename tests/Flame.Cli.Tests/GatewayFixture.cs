using System.Net;
using System.Net.Sockets;
using Flame.Client;
using Flame.SessionManager.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Flame.Cli.Tests;

/// <summary>
/// A real session manager (silo + gRPC gateway) hosted in the test process on free loopback ports, with no
/// executors and no built-in applications (the pattern of Flame.SessionManager.Tests' GatewayFixture).
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string Endpoint { get; } = $"http://127.0.0.1:{FreePorts.Next()}";

    /// <summary>A client of the gateway, for arranging what the CLI then reads.</summary>
    public IFlameClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _app = SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = Endpoint,
            ["Flame:SessionManager:SiloPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:OrleansGatewayPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:EmbeddedExecutorManager"] = "false",
            ["Flame:SessionManager:RegisterBuiltInApplications"] = "false",
            ["Flame:SessionManager:ClusterId"] = "cli-" + Guid.NewGuid().ToString("N")[..8],
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await _app.StartAsync();
        Client = new GrpcFlameClient(Endpoint);
    }

    public async Task DisposeAsync()
    {
        if (Client is not null)
            await Client.DisposeAsync();
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
