using Flame.Client;
using Flame.SessionManager.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flame.Benchmarks;

/// <summary>
/// A real session manager (silo + gRPC gateway, <see cref="SessionManagerApp"/>) in this process, on free
/// loopback ports and a cluster id of its own, without executors, logging at Warning only.
/// </summary>
internal sealed class HostedSessionManager : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HostedSessionManager(WebApplication app, string endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary>The gRPC gateway, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Endpoint { get; }

    /// <summary>The silo's grain factory: calls from here are in-process grain calls.</summary>
    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The in-process client the gateway itself uses.</summary>
    public OrleansFlameClient Client => _app.Services.GetRequiredService<OrleansFlameClient>();

    public static async Task<HostedSessionManager> StartAsync()
    {
        var endpoint = $"http://127.0.0.1:{FreePorts.Next()}";
        var id = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var app = SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = endpoint,
            ["Flame:SessionManager:SiloPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:BackendEndpoint"] = "none",
            ["Flame:SessionManager:OrleansGatewayPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:ClusterId"] = id,
            ["Flame:SessionManager:ServiceId"] = id,
            // No executors: the benchmarks measure tasks that stay pending.
            ["Flame:SessionManager:EmbeddedExecutorManager"] = "false",
            // In memory: a test leaves no files behind, and each run starts empty.
            ["Flame:Storage:Provider"] = "Memory",
            ["Flame:SessionManager:RegisterBuiltInApplications"] = "false",
            // appsettings.json (copied next to this binary) names some categories; silence all of them.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Polly"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Warning",
            ["Logging:LogLevel:Orleans.Runtime.MembershipService"] = "Warning",
            // Its first check after start-up reports the time since the machine booted as a stall (Orleans 10.4.2).
            ["Logging:LogLevel:Orleans.Runtime.Watchdog"] = "Error",
        });
        await app.StartAsync();
        return new HostedSessionManager(app, endpoint);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
