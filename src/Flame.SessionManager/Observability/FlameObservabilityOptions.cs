namespace Flame.SessionManager.Observability;

/// <summary>Metrics, traces and the dashboard (<c>Flame:Observability</c>).</summary>
public sealed class FlameObservabilityOptions
{
    /// <summary>The configuration section: <c>Flame:Observability</c>.</summary>
    public const string Section = "Flame:Observability";

    /// <summary>
    /// Where the dashboard (<c>/</c>) and the Prometheus scrape endpoint (<c>/metrics</c>) listen, plain HTTP/1.1;
    /// <c>none</c> turns both off. Default <c>http://127.0.0.1:8090</c>. A port already taken (a second session
    /// manager on the machine) is logged and left off; the session manager runs on.
    /// </summary>
    public string Endpoint { get; set; } = "http://127.0.0.1:8090";

    /// <summary>
    /// An OTLP collector (gRPC, e.g. <c>http://127.0.0.1:4317</c>) to send metrics and, when sampled, traces to.
    /// Default none: nothing is pushed.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>
    /// The share of tasks traced, 0 to 1 (parent-based: a client that sends a sampled <c>traceparent</c> is traced
    /// whatever this says, as long as it is above 0). Default 0: tracing off.
    /// </summary>
    public double TraceSampleRatio { get; set; }

    /// <summary>How often the dashboard pushes a new view to each open page, in milliseconds. Default 1000.</summary>
    public int DashboardRefreshMilliseconds { get; set; } = 1000;
}
