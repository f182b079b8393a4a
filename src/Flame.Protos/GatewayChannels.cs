using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace Flame.Channels;

/// <summary>
/// How a client or an executor manager reaches one gateway or several: endpoint lists are parsed here, and a
/// channel over several gateways uses grpc-dotnet's client-side load balancing (a static resolver with the
/// addresses in the given order and the <c>pick_first</c> policy), so that when the connection to one gateway
/// breaks, the channel connects to the next address that answers.
/// </summary>
/// <remarks>
/// Every silo of a cluster hosts a gateway and any gateway serves every call, so <c>pick_first</c> (one
/// connection, to the first address that answers) is enough; spreading calls is not the point.
/// </remarks>
public static class GatewayChannels
{
    /// <summary>The example address used in error messages.</summary>
    public const string Example = "http://127.0.0.1:8080";

    /// <summary>
    /// Parses a comma-separated list of gateway addresses, <c>http://HOST:PORT</c> or <c>https://HOST:PORT</c>.
    /// With <paramref name="assumeHttp"/>, an address without a scheme (<c>HOST:PORT</c>) is taken as <c>http://</c>.
    /// </summary>
    /// <returns>True with the addresses in order; false with <paramref name="error"/> saying what is wrong with which entry.</returns>
    public static bool TryParseList(string? text, bool assumeHttp, out IReadOnlyList<Uri> endpoints, out string error)
    {
        endpoints = [];
        var list = new List<Uri>();
        var entries = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (entries.All(e => e.Length == 0))
        {
            error = $"no address given; give one like {Example}";
            return false;
        }
        foreach (var entry in entries)
        {
            if (entry.Length == 0)
            {
                error = $"'{text}' has an empty entry; separate addresses with single commas";
                return false;
            }
            if (!TryParse(entry, assumeHttp, out var uri, out error))
                return false;
            list.Add(uri);
        }
        if (list.Select(u => u.Scheme).Distinct().Count() > 1)
        {
            error = $"'{text}' mixes http:// and https:// addresses; a channel is either plaintext or TLS";
            return false;
        }
        endpoints = list;
        error = "";
        return true;
    }

    /// <summary>Parses one gateway address; see <see cref="TryParseList"/>.</summary>
    public static bool TryParse(string text, bool assumeHttp, out Uri endpoint, out string error)
    {
        endpoint = null!;
        var candidate = text.Trim();
        if (assumeHttp && !candidate.Contains("://", StringComparison.Ordinal))
            candidate = "http://" + candidate;
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            error = $"'{text}' is not an address like {Example}";
            return false;
        }
        if (uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            error = $"'{text}' has a path; give only http://HOST:PORT";
            return false;
        }
        endpoint = uri;
        error = "";
        return true;
    }

    /// <summary>
    /// A channel to <paramref name="endpoints"/>. One address: <see cref="GrpcChannel.ForAddress(Uri, GrpcChannelOptions)"/>
    /// as usual. Several: the <c>pick_first</c> policy over a static resolver with the addresses in order, the
    /// credentials chosen by their scheme, and <paramref name="options"/>'s <see cref="GrpcChannelOptions.ServiceConfig"/>
    /// (e.g. retry policies) kept. <paramref name="options"/> is modified and must not be shared.
    /// </summary>
    /// <param name="endpoints">The gateways, in the order they are tried.</param>
    /// <param name="options">The channel's options.</param>
    /// <param name="resolver">With several gateways, a resolver of the <c>static</c> scheme that hands the channel the
    /// addresses (and may change their order later); by default they are handed once, as given.</param>
    /// <exception cref="ArgumentException">No address, or both http and https addresses.</exception>
    public static GrpcChannel Create(IReadOnlyList<Uri> endpoints, GrpcChannelOptions options, ResolverFactory? resolver = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        if (endpoints.Count == 0)
            throw new ArgumentException("at least one gateway address is needed", nameof(endpoints));
        if (endpoints.Select(u => u.Scheme).Distinct().Count() > 1)
            throw new ArgumentException("the gateway addresses mix http:// and https://", nameof(endpoints));
        if (endpoints.Count == 1)
            return GrpcChannel.ForAddress(endpoints[0], options);

        var addresses = endpoints.Select(u => new BalancerAddress(u.IdnHost, u.Port)).ToArray();
        options.ServiceProvider = new Resolvers(resolver ?? new StaticResolverFactory(_ => addresses));
        options.Credentials = endpoints[0].Scheme == Uri.UriSchemeHttps ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        options.ServiceConfig ??= new ServiceConfig();
        options.ServiceConfig.LoadBalancingConfigs.Clear();
        options.ServiceConfig.LoadBalancingConfigs.Add(new PickFirstConfig());
        return GrpcChannel.ForAddress("static:///flame-gateways", options);
    }

    /// <summary>
    /// <paramref name="handler"/> adding <c>authorization: Bearer <paramref name="token"/></c> to every call, or
    /// <paramref name="handler"/> itself without a token. A handler rather than call credentials: it works on http://
    /// and https:// alike, and for every call and stream of the channel.
    /// </summary>
    public static HttpMessageHandler WithToken(string? token, HttpMessageHandler handler) =>
        string.IsNullOrEmpty(token) ? handler : new BearerTokenHandler(token, handler);

    private sealed class BearerTokenHandler(string token, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly System.Net.Http.Headers.AuthenticationHeaderValue _value = new("Bearer", token);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = _value;
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>A retry policy for calls that are safe to repeat: <see cref="StatusCode.Unavailable"/>, a few attempts with back-off.</summary>
    public static RetryPolicy SafeRetryPolicy(int gateways) => new()
    {
        // One attempt per gateway and one more, within gRPC's cap of 5.
        MaxAttempts = Math.Clamp(gateways + 1, 2, 5),
        InitialBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromSeconds(1),
        BackoffMultiplier = 2,
        RetryableStatusCodes = { StatusCode.Unavailable },
    };

    /// <summary>The services grpc-dotnet asks the channel's service provider for: only the resolver factories.</summary>
    private sealed class Resolvers(ResolverFactory factory) : IServiceProvider
    {
        private readonly IEnumerable<ResolverFactory> _factories = [factory];

        public object? GetService(Type serviceType) =>
            serviceType == typeof(IEnumerable<ResolverFactory>) ? _factories : null;
    }
}
