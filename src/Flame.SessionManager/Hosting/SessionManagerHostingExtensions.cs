using Flame.Client;
using Flame.ExecutorManager.Hosting;
using Flame.Grains.Hosting;
using Flame.SessionManager.Grpc;
using Flame.SessionManager.Options;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Flame.SessionManager.Hosting;

/// <summary>The wiring of a session manager: silo, gateway, options. Program.cs stays a few lines.</summary>
public static class SessionManagerHostingExtensions
{
    /// <summary>Makes this process a silo of the Flame cluster and a flame.v1 gRPC gateway.</summary>
    public static WebApplicationBuilder AddFlameSessionManager(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindValidated<FlameSessionManagerOptions>(FlameSessionManagerOptions.Section);
        var limits = builder.Configuration.BindValidated<FlameLimitsOptions>(FlameLimitsOptions.Section);
        var execution = builder.Configuration.BindValidated<FlameExecutionOptions>(FlameExecutionOptions.Section);
        var endpoint = GatewayEndpoint.Parse(options.Endpoint, $"{FlameSessionManagerOptions.Section}:Endpoint");

        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        builder.Services.AddFlameGrains(limits, execution);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Plaintext gRPC needs HTTP/2 only: with Http1AndHttp2, h2c clients are refused.
            void Http2(ListenOptions listen) => listen.Protocols = HttpProtocols.Http2;
            if (endpoint.Localhost)
                kestrel.ListenLocalhost(endpoint.Port, Http2);
            else
                kestrel.Listen(endpoint.Address!, endpoint.Port, Http2);
            // Watches are streams: one client may hold thousands on one connection.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 10_000;
        });

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort: options.SiloPort,
                gatewayPort: options.OrleansGatewayPort,
                serviceId: options.ServiceId,
                clusterId: options.ClusterId);
        });

        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<FlameErrorInterceptor>();
            // Room for the largest payload the limits allow plus the message around it;
            // anything bigger than that is refused by gRPC before it reaches us.
            grpc.MaxReceiveMessageSize = limits.LargestPayloadBytes + 1024 * 1024;
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton<OrleansFlameClient>();
        builder.Services.AddSingleton<ExecutorSessions>();
        // The extension services reuse the Backend's code paths.
        builder.Services.AddScoped<BackendService>();
        if (options.RegisterBuiltInApplications)
            builder.Services.AddHostedService<BuiltInApplications>();
        // After UseOrleans: hosted services stop in reverse order, so the executors stop before the silo.
        if (options.EmbeddedExecutorManager)
            builder.Services.AddFlameExecutorManager(EmbeddedExecutorManagerOptions(builder.Configuration, endpoint));
        return builder;
    }

    /// <summary>
    /// The embedded executor manager's options: section <c>Flame:ExecutorManager</c>, connecting to this gateway
    /// unless an endpoint is configured (a gateway on 0.0.0.0 is reached through 127.0.0.1).
    /// </summary>
    private static FlameExecutorManagerOptions EmbeddedExecutorManagerOptions(IConfiguration configuration, GatewayEndpoint gateway)
    {
        FlameExecutorManagerOptions options;
        try
        {
            options = FlameExecutorManagerOptions.FromConfiguration(configuration);
        }
        catch (ExecutorManagerConfigurationException ex)
        {
            throw new FlameConfigurationException(ex.Message);
        }
        if (configuration[$"{FlameExecutorManagerOptions.Section}:Endpoint"] is null)
        {
            var host = gateway.Localhost || gateway.Address is null || gateway.Address.Equals(System.Net.IPAddress.Any)
                ? "127.0.0.1"
                : gateway.Address.Equals(System.Net.IPAddress.IPv6Any) ? "[::1]"
                : gateway.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{gateway.Address}]"
                : gateway.Address.ToString();
            options.Endpoint = $"http://{host}:{gateway.Port}";
        }
        return options;
    }

    /// <summary>Maps the gRPC services of the gateway.</summary>
    public static WebApplication MapFlameGateway(this WebApplication app)
    {
        app.MapGrpcService<FrontendService>();
        app.MapGrpcService<BackendService>();
        app.MapGrpcService<FrontendExtService>();
        app.MapGrpcService<BackendExtService>();
        return app;
    }
}
