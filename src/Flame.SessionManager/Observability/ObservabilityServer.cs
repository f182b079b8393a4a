using Flame.SessionManager.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Flame.SessionManager.Observability;

/// <summary>
/// The listener of the dashboard and of <c>/metrics</c>: a small web server of its own beside the gateway, so that a
/// port that is taken leaves them off (logged) instead of stopping the session manager.
/// </summary>
internal sealed partial class ObservabilityServer(
    GatewayEndpoint endpoint,
    IOptions<FlameObservabilityOptions> options,
    IServiceProvider services,
    ILogger<ObservabilityServer> logger) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = logger;
    private WebApplication? _app;

    /// <summary>The endpoint it listens on, e.g. <c>http://127.0.0.1:8090</c>; null until it listens.</summary>
    public string? Address { get; private set; }

    /// <summary>Null for <c>none</c>; otherwise the endpoint, plain http (the dashboard is read-only and local by default).</summary>
    public static GatewayEndpoint? ParseEndpoint(string value)
    {
        const string key = FlameObservabilityOptions.Section + ":Endpoint";
        if (string.Equals(value?.Trim(), "none", StringComparison.OrdinalIgnoreCase))
            return null;
        var parsed = GatewayEndpoint.Parse(value ?? "", key);
        if (parsed.Tls)
            throw new FlameConfigurationException($"configuration key '{key}': '{value}' is https; the dashboard listens on plain http (or 'none')");
        return parsed;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // Its own logs would repeat ours: the gateway's host logs the session manager.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (endpoint.Localhost)
                kestrel.ListenLocalhost(endpoint.Port, l => l.Protocols = HttpProtocols.Http1);
            else
                kestrel.Listen(endpoint.Address!, endpoint.Port, l => l.Protocols = HttpProtocols.Http1);
        });
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(services.GetRequiredService<MeterProvider>(), null, "/metrics", null, null);
        DashboardEndpoints.Map(app, services, options.Value);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            LogNotListening( Describe(), ex.Message);
            await app.DisposeAsync();
            return;
        }
        _app = app;
        Address = Describe();
        LogListening( Address);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
            await app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
            await app.DisposeAsync();
        _app = null;
    }

    private string Describe() => $"http://{(endpoint.Localhost ? "localhost" : endpoint.Address!.ToString())}:{endpoint.Port}";
}
