using Flame.ExecutorManager.Diagnostics;
using Flame.Grains.Diagnostics;
using Flame.SessionManager.Hosting;
using Flame.Storage.Diagnostics;
using Grpc.AspNetCore.Server;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Flame.SessionManager.Observability;

/// <summary>Metrics, traces and the dashboard of a session manager (<c>Flame:Observability</c>).</summary>
public static class ObservabilityHostingExtensions
{
    /// <summary>The meters the session manager exports: its own, the task store's, its embedded executor manager's, and what Orleans, ASP.NET Core and the runtime publish.</summary>
    public static readonly IReadOnlyList<string> Meters =
    [
        FlameMetrics.MeterName, StoreMetrics.MeterName, ExecutorManagerMetrics.MeterName,
        "Microsoft.Orleans", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel",
    ];

    /// <summary>
    /// Adds the Prometheus scrape endpoint and the dashboard on <see cref="FlameObservabilityOptions.Endpoint"/>, the
    /// gateway's call counts, the optional OTLP exporter, and task traces when <see cref="FlameObservabilityOptions.TraceSampleRatio"/> is above 0.
    /// </summary>
    public static WebApplicationBuilder AddFlameObservability(this WebApplicationBuilder builder)
    {
        var options = builder.Services.AddFlameOptions<FlameObservabilityOptions>(builder.Configuration, FlameObservabilityOptions.Section);
        var endpoint = ObservabilityServer.ParseEndpoint(options.Endpoint);
        if (options.TraceSampleRatio is < 0 or > 1 || double.IsNaN(options.TraceSampleRatio))
            throw new FlameConfigurationException(
                $"configuration key '{FlameObservabilityOptions.Section}:TraceSampleRatio': {options.TraceSampleRatio} is not between 0 and 1");
        if (options.DashboardRefreshMilliseconds < 100)
            throw new FlameConfigurationException(
                $"configuration key '{FlameObservabilityOptions.Section}:DashboardRefreshMilliseconds': {options.DashboardRefreshMilliseconds} is below 100");
        Uri? otlp = null;
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint) && !Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out otlp))
            throw new FlameConfigurationException(
                $"configuration key '{FlameObservabilityOptions.Section}:OtlpEndpoint': '{options.OtlpEndpoint}' is not an absolute URI, e.g. http://127.0.0.1:4317");

        var telemetry = builder.Services.AddOpenTelemetry();
        // Nothing to export to (Endpoint none, no OTLP): no listener at all, so the instruments cost nothing.
        if (endpoint is not null || otlp is not null)
        {
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter([.. Meters]).AddRuntimeInstrumentation();
                if (endpoint is not null)
                    metrics.AddPrometheusExporter();
                if (otlp is not null)
                    metrics.AddOtlpExporter(o => o.Endpoint = otlp);
            });
        }
        if (options.TraceSampleRatio > 0)
        {
            telemetry.WithTracing(tracing =>
            {
                // The gateway's calls: ASP.NET Core reads a client's W3C traceparent header, so its calls join its trace.
                tracing.AddAspNetCoreInstrumentation().AddSource(FlameTracing.SourceName)
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSampleRatio)));
                if (otlp is not null)
                    tracing.AddOtlpExporter(o => o.Endpoint = otlp);
            });
        }
        // Configured after AddGrpc's own options: first in the list, so outermost, it sees the status the client gets.
        builder.Services.PostConfigure<GrpcServiceOptions>(grpc =>
        {
            grpc.Interceptors.Add<GatewayMetricsInterceptor>();
            var registration = grpc.Interceptors[^1];
            grpc.Interceptors.RemoveAt(grpc.Interceptors.Count - 1);
            grpc.Interceptors.Insert(0, registration);
        });
        if (endpoint is not null)
        {
            builder.Services.AddSingleton(endpoint);
            builder.Services.AddSingleton<ObservabilityServer>();
            builder.Services.AddHostedService(services => services.GetRequiredService<ObservabilityServer>());
        }
        return builder;
    }
}
