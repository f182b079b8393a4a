using Flame.Client;
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

    private InProcessGateway? _gateway;

    public string Endpoint => Gateway.Endpoint;

    public GrpcChannel Channel { get; private set; } = null!;

    public Frontend.FrontendClient Frontend { get; private set; } = null!;

    /// <summary>The silo's grain factory, for the in-process transport (<see cref="OrleansFlameClient"/>).</summary>
    public IGrainFactory Grains => Gateway.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The watch hub the gateway's Frontend service watches tasks through.</summary>
    public TaskWatchHub GatewayWatchHub => Gateway.Services.GetRequiredService<OrleansFlameClient>().WatchHub;

    private InProcessGateway Gateway => _gateway ?? throw new InvalidOperationException("the gateway is not started");

    /// <summary>A new open session of a new application named <paramref name="prefix"/> plus a unique suffix; its id.</summary>
    public async Task<string> NewSessionAsync(string prefix)
    {
        var app = prefix + Guid.NewGuid().ToString("N")[..8];
        await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = app, Application = new Flame.V1.ApplicationSpec { Command = "/bin/true" } });
        return (await Frontend.CreateSessionAsync(new CreateSessionRequest { Session = new Flame.V1.SessionSpec { Application = app } })).Metadata.Id;
    }

    public async Task InitializeAsync()
    {
        _gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:Limits:MaxTaskInputBytes"] = MaxTaskInputBytes.ToString(),
            ["Flame:Limits:MaxCommonDataBytes"] = MaxCommonDataBytes.ToString(),
            ["Flame:Limits:MaxTaskOutputBytes"] = MaxTaskOutputBytes.ToString(),
        });
        Channel = GrpcChannel.ForAddress(Endpoint, Flame.Client.GrpcFlameClient.CreateChannelOptions());
        Frontend = new Frontend.FrontendClient(Channel);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_gateway is not null)
            await _gateway.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
