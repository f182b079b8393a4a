using System.Net.Http;
using Flame.Channels;
using Flame.ExecutorManager.Hosting;
using Flame.Hosting;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Gateway;

/// <summary>
/// The one channel to the gateway, shared by the node agent and every executor worker: their calls are
/// streams multiplexed on a few HTTP/2 connections, and long-polls never need a connection of their own.
/// </summary>
internal sealed partial class GatewayConnection : IDisposable
{
    /// <summary>
    /// The largest message either way: the gateway allows task inputs, outputs and common data of up to 256 MiB
    /// (its own limits decide what it accepts), plus room for the message around them.
    /// </summary>
    public const int MaxMessageSize = 257 * 1024 * 1024;

    private readonly GrpcChannel _channel;

    /// <summary>What the node presents and trusts, read once at start.</summary>
    /// <param name="Token">The node's token, or null.</param>
    /// <param name="TokenWarning">One line about the token file (e.g. others may read it), or null.</param>
    /// <param name="CertificateCheck">The check of https gateways against <see cref="FlameExecutorManagerOptions.CaFile"/>, or null for the system's roots.</param>
    public sealed record Credentials(string? Token, string? TokenWarning, System.Net.Security.RemoteCertificateValidationCallback? CertificateCheck);

    /// <summary>Reads the CA and the token files named by <paramref name="options"/>.</summary>
    /// <exception cref="FlameConfigurationException">A file cannot be read, holds no certificate, or no token.</exception>
    public static Credentials ReadCredentials(FlameExecutorManagerOptions options)
    {
        try
        {
            string? warning = null;
            var token = options.Token is { Length: > 0 } given ? given
                : options.TokenFile is { } tokenFile
                ? GatewayCredentials.ReadTokenFile(tokenFile, $"{FlameExecutorManagerOptions.Section}:{nameof(options.TokenFile)}", out warning)
                : null;
            var check = options.CaFile is { } caFile ? GatewayCredentials.TrustOnly(caFile) : null;
            return new Credentials(token, warning, check);
        }
        catch (GatewayCredentialsException ex)
        {
            throw new FlameConfigurationException(ex.Message);
        }
    }

    public GatewayConnection(FlameExecutorManagerOptions options, Credentials credentials, ILogger<GatewayConnection> logger)
    {
        Endpoint = options.Endpoint;
        if (credentials.TokenWarning is { } warning)
            LogTokenWarning(logger, warning);
        var handler = new SocketsHttpHandler
        {
            // Each executor holds one long-poll open most of the time: more than a server's stream limit
            // per connection on a big node.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // A gateway that vanished without closing its connections is noticed within a minute and a half.
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        };
        if (credentials.CertificateCheck is { } check)
            handler.SslOptions.RemoteCertificateValidationCallback = check;
        // Several gateways: pick_first over them, so a broken connection moves to the next one. Nothing is retried by
        // the channel: the node agent and the workers retry UNAVAILABLE themselves, knowing which calls are safe.
        _channel = GatewayChannels.Create(options.Endpoints, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = MaxMessageSize,
            MaxSendMessageSize = MaxMessageSize,
            ThrowOperationCanceledOnCancellation = true,
            HttpHandler = GatewayChannels.WithToken(credentials.Token, handler),
        });
        Backend = new V1.Backend.BackendClient(_channel);
        BackendExt = new V1.BackendExt.BackendExtClient(_channel);
    }

    // The best task channel the gateway is not known to refuse: lowered, never raised, as a gateway answers UNIMPLEMENTED.
    private int _bestTaskChannel = (int)TaskChannelKind.Stream;

    /// <summary>
    /// The best form of task exchange (<see cref="TaskChannelKind"/>) the gateway has not refused: the stream until it
    /// answers UNIMPLEMENTED (a plain Flame server), then the unary extension, then the standard calls.
    /// </summary>
    public TaskChannelKind BestTaskChannel => (TaskChannelKind)Volatile.Read(ref _bestTaskChannel);

    /// <summary>The gateway answered <paramref name="kind"/> UNIMPLEMENTED: later bindings use the next form down.</summary>
    public void Refused(TaskChannelKind kind)
    {
        var next = (int)kind + 1;
        int current;
        while ((current = Volatile.Read(ref _bestTaskChannel)) < next)
        {
            if (Interlocked.CompareExchange(ref _bestTaskChannel, next, current) == current)
                return;
        }
    }

    /// <summary>The Flame.Orleans BackendExt client over the shared channel.</summary>
    public V1.BackendExt.BackendExtClient BackendExt { get; }

    /// <summary>The gateway's address or comma-separated addresses, as configured.</summary>
    public string Endpoint { get; }

    /// <summary>The flame.v1 Backend client over the shared channel.</summary>
    public V1.Backend.BackendClient Backend { get; }

    public void Dispose() => _channel.Dispose();
}
