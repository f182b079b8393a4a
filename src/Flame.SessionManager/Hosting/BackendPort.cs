using Flame.SessionManager.Options;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// The Backend's own port, where Flame's executor managers look for it: the frontend's port + 1 (8081 beside 8080)
/// by default (<see cref="FlameSessionManagerOptions.BackendEndpoint"/>). As in Flame, only the Backend is served
/// there (with our BackendExt); the frontend's port keeps serving everything, Backend included.
/// </summary>
public sealed class BackendPort(GatewayEndpoint endpoint)
{
    /// <summary>The value of <see cref="FlameSessionManagerOptions.BackendEndpoint"/> that turns the port off.</summary>
    public const string None = "none";

    /// <summary>Where the Backend listens.</summary>
    public GatewayEndpoint Endpoint { get; } = endpoint;

    /// <summary>
    /// The Backend's own endpoint from <paramref name="value"/> (<see cref="FlameSessionManagerOptions.BackendEndpoint"/>),
    /// or null when it has none: turned off, or left to default beside a frontend on port 0 (any port) or 65535.
    /// </summary>
    public static BackendPort? Resolve(string? value, GatewayEndpoint frontend)
    {
        const string key = $"{FlameSessionManagerOptions.Section}:BackendEndpoint";
        if (string.Equals(value?.Trim(), None, StringComparison.OrdinalIgnoreCase))
            return null;
        if (string.IsNullOrWhiteSpace(value))
            return frontend.Port is > 0 and < 65535 ? new BackendPort(frontend with { Port = frontend.Port + 1 }) : null;
        var endpoint = GatewayEndpoint.Parse(value, key);
        if (endpoint.Tls != frontend.Tls)
            throw new FlameConfigurationException(
                $"configuration key '{key}': '{value}' must use the frontend's scheme ({(frontend.Tls ? "https" : "http")}://): both ports are served the same way");
        if (endpoint.Port == frontend.Port)
            throw new FlameConfigurationException(
                $"configuration key '{key}': port {endpoint.Port} is the frontend's (Flame:SessionManager:Endpoint), which serves the Backend already; give another port, or '{None}'");
        return new BackendPort(endpoint);
    }

    /// <summary>Listens on the Backend's port, set up as the frontend's listener is (<paramref name="configure"/>).</summary>
    public void Listen(KestrelServerOptions kestrel, Action<ListenOptions> configure)
    {
        if (Endpoint.Localhost)
            kestrel.ListenLocalhost(Endpoint.Port, configure);
        else
            kestrel.Listen(Endpoint.Address!, Endpoint.Port, configure);
    }

    /// <summary>
    /// Answers every call on the Backend's port that is not to the Backend (or BackendExt) as a server without the
    /// service would: gRPC <c>UNIMPLEMENTED</c>, and 404 to anything that is not gRPC.
    /// </summary>
    public void Filter(IApplicationBuilder app)
    {
        var backend = $"/{V1.Backend.Descriptor.FullName}/";
        var backendExt = $"/{V1.BackendExt.Descriptor.FullName}/";
        var port = Endpoint.Port;
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value ?? "";
            if (context.Connection.LocalPort != port
                || path.StartsWith(backend, StringComparison.Ordinal) || path.StartsWith(backendExt, StringComparison.Ordinal))
                return next(context);
            var response = context.Response;
            if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
            {
                // A trailers-only answer, as gRPC servers give for an unknown service.
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = "application/grpc";
                response.Headers["grpc-status"] = ((int)global::Grpc.Core.StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.Headers["grpc-message"] = $"only the Backend is served on port {port}; call {path.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()} on the frontend's port";
            }
            else
            {
                response.StatusCode = StatusCodes.Status404NotFound;
            }
            return Task.CompletedTask;
        });
    }
}
