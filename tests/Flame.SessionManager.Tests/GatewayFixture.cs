using Flame.Client;
using Flame.SessionManager.Hosting;
using Flame.V1;
using Orleans;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

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
    public const int MaxTaskOutputBytes = 256 * 1024;

    /// <summary>
    /// The largest gRPC message the gateway accepts: the largest limit plus 1 MiB of room
    /// (see SessionManagerHostingExtensions); anything bigger is refused by gRPC itself.
    /// </summary>
    public const int GrpcReceiveLimitBytes = MaxTaskOutputBytes + 1024 * 1024;

    private WebApplication? _app;

    public string Endpoint { get; } = $"http://127.0.0.1:{FreePorts.Next()}";

    public GrpcChannel Channel { get; private set; } = null!;

    public Frontend.FrontendClient Frontend { get; private set; } = null!;

    /// <summary>The silo's grain factory, for the in-process transport (<see cref="OrleansFlameClient"/>).</summary>
    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The watch hub the gateway's Frontend service watches tasks through.</summary>
    public TaskWatchHub GatewayWatchHub => App.Services.GetRequiredService<OrleansFlameClient>().WatchHub;

    private WebApplication App => _app ?? throw new InvalidOperationException("the gateway is not started");

    public async Task InitializeAsync()
    {
        _app = SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = Endpoint,
            ["Flame:SessionManager:SiloPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:OrleansGatewayPort"] = FreePorts.Next().ToString(),
            // The Frontend tests run no executors: tasks stay where the tests put them.
            ["Flame:SessionManager:EmbeddedExecutorManager"] = "false",
            // In memory: a test leaves no files behind, and each run starts empty.
            ["Flame:Storage:Provider"] = "Memory",
            ["Flame:SessionManager:RegisterBuiltInApplications"] = "false",
            ["Flame:SessionManager:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Flame:Limits:MaxTaskInputBytes"] = MaxTaskInputBytes.ToString(),
            ["Flame:Limits:MaxCommonDataBytes"] = MaxCommonDataBytes.ToString(),
            ["Flame:Limits:MaxTaskOutputBytes"] = MaxTaskOutputBytes.ToString(),
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
