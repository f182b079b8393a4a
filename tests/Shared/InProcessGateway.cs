using Flame.SessionManager.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Flame.Testing;

/// <summary>
/// A real session manager (one silo + its gRPC gateway) hosted in the test process on free loopback ports, with no
/// executors and no built-in applications, as a cluster of its own. Shared (as a linked source file) by the test
/// projects that need a gateway to talk to.
/// </summary>
public sealed class InProcessGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _stopped;

    private InProcessGateway(WebApplication app, string endpoint, string? backendEndpoint)
    {
        _app = app;
        Endpoint = endpoint;
        BackendEndpoint = backendEndpoint;
    }

    /// <summary>The gateway's address, <c>http://127.0.0.1:PORT</c> (or the <c>https://</c> one the overrides gave).</summary>
    public string Endpoint { get; }

    /// <summary>The Backend's own address (a free port of its own unless overridden), or null when it is turned off.</summary>
    public string? BackendEndpoint { get; }

    /// <summary>The session manager's services (its grain factory, its in-process client).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a session manager; <paramref name="overrides"/> adds or replaces configuration keys, <paramref name="args"/>
    /// are its command line. It is prepared (database checked or initialised) before it starts, as Program does.
    /// </summary>
    public static async Task<InProcessGateway> StartAsync(IReadOnlyDictionary<string, string?>? overrides = null, string[]? args = null)
    {
        var endpoint = $"http://127.0.0.1:{FreePorts.Next()}";
        var settings = new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = endpoint,
            ["Flame:SessionManager:SiloPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:OrleansGatewayPort"] = FreePorts.Next().ToString(),
            ["Flame:SessionManager:EmbeddedExecutorManager"] = "false",
            // In memory: a test leaves no files behind, and each run starts empty.
            ["Flame:Storage:Provider"] = "Memory",
            ["Flame:ObjectCache:Endpoint"] = $"grpc://127.0.0.1:{FreePorts.Next()}",
            ["Flame:SessionManager:RegisterBuiltInApplications"] = "false",
            ["Flame:SessionManager:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Logging:LogLevel:Default"] = "Warning",
            // The dashboard's default port (8090) is one per machine: a test that wants it gives a free one.
            ["Flame:Observability:Endpoint"] = "none",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        // A free port of its own, served as the frontend is (http or https): the default, the frontend's port + 1, may be taken.
        if (!settings.ContainsKey("Flame:SessionManager:BackendEndpoint"))
        {
            var scheme = settings["Flame:SessionManager:Endpoint"]!.StartsWith("https:", StringComparison.Ordinal) ? "https" : "http";
            settings["Flame:SessionManager:BackendEndpoint"] = $"{scheme}://127.0.0.1:{FreePorts.Next()}";
        }
        var app = SessionManagerApp.Create(args ?? [], settings);
        await app.PrepareAsync();
        await app.StartAsync();
        var backend = app.Services.GetService(typeof(BackendPort)) is BackendPort port
            ? $"{(port.Endpoint.Tls ? "https" : "http")}://{(port.Endpoint.Localhost ? "localhost" : port.Endpoint.Address)}:{port.Endpoint.Port}"
            : null;
        return new InProcessGateway(app, settings["Flame:SessionManager:Endpoint"]!, backend);
    }

    /// <summary>Stops the gateway and its silo (once); clients see their connections closed.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
