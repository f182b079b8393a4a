using Flame.ObjectCache.Flight;
using Flame.ObjectCache.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Flame.ObjectCache.Hosting;

/// <summary>
/// The Flight server on its own Kestrel listener, apart from the gateway's: none of the gateway's interceptors
/// (authentication, its message limit) apply, as Flame's cache has none, and both gRPC message limits are lifted (a
/// whole object travels in one message). Started after the silo, stopped before it.
/// </summary>
internal sealed partial class ObjectCacheHost(IServiceProvider services, CacheEndpoint endpoint, ILogger<ObjectCacheHost> logger) : IHostedService
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(services.GetRequiredService<ILoggerFactory>());
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton(services.GetRequiredService<IGrainFactory>());
        builder.Services.AddSingleton(services.GetRequiredService<IObjectStore>());
        builder.Services.AddSingleton(endpoint);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = null;
            grpc.MaxSendMessageSize = null;
        }).AddFlightServer<ObjectCacheFlightServer>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            void Protocols(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http2;
                if (endpoint.Tls)
                    listen.UseHttps(services.GetRequiredService<ObjectCacheCertificate>().Load());
            }
            if (endpoint.Loopback)
                kestrel.ListenLocalhost(endpoint.Port, Protocols);
            else if (endpoint.Address is null)
                kestrel.ListenAnyIP(endpoint.Port, Protocols);
            else
                kestrel.Listen(endpoint.Address, endpoint.Port, Protocols);
        });
        _app = builder.Build();
        _app.MapFlightEndpoint();
        try
        {
            await _app.StartAsync(cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // The session manager's own work does not need the cache: a second one on this machine keeps running without.
            LogPortTaken(logger, endpoint.Port, ex.Message);
            await _app.DisposeAsync();
            _app = null;
            return;
        }
        LogListening(logger, endpoint.Port, endpoint.Advertised);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
            await _app.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Error,
        Message = "Object cache off: port {Port} is taken ({Reason}); give Flame:ObjectCache:Endpoint another port, or 'none'")]
    private static partial void LogPortTaken(ILogger logger, int port, string reason);

    [LoggerMessage(EventId = 7100, Level = LogLevel.Information, Message = "Object cache (Arrow Flight) listening on port {Port}, advertised as {Advertised}")]
    private static partial void LogListening(ILogger logger, int port, string advertised);
}

/// <summary>The PEM certificate and key of a <c>grpcs://</c> cache endpoint.</summary>
internal sealed class ObjectCacheCertificate(FlameObjectCacheOptions options)
{
    public System.Security.Cryptography.X509Certificates.X509Certificate2 Load()
    {
        try
        {
            using var pem = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(options.CertificateFile!, options.KeyFile);
            // Kestrel on Linux needs the key in a form it can export to SslStream: reload through PKCS#12.
            return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(pem.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new FlameStartupException($"{FlameObjectCacheOptions.Section}:CertificateFile/KeyFile: {ex.Message}");
        }
    }
}
