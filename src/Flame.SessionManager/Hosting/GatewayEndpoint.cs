using System.Net;
using System.Text.RegularExpressions;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// A parsed gateway address: an IP address or localhost, plaintext HTTP/2 (<c>http://</c>) or TLS (<c>https://</c>).
/// </summary>
public sealed partial record GatewayEndpoint(IPAddress? Address, bool Localhost, int Port, bool Tls = false)
{
    [GeneratedRegex(@"^https?://(\[[^\]]+\]|[^/:\[\]]+):\d+/?$", RegexOptions.IgnoreCase)]
    private static partial Regex HasExplicitPort();

    /// <summary>True when only this machine can connect: localhost or a loopback address.</summary>
    public bool IsLoopback => Localhost || (Address is not null && IPAddress.IsLoopback(Address));

    /// <summary>
    /// Parses <c>http://HOST:PORT</c> or <c>https://HOST:PORT</c> where HOST is an IP address, <c>localhost</c>,
    /// <c>0.0.0.0</c> or <c>*</c>.
    /// </summary>
    public static GatewayEndpoint Parse(string value, string key)
    {
        var text = value.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal);
        // The port must be written out: a default port is never what a gateway means.
        if (!HasExplicitPort().IsMatch(text) || !Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new FlameConfigurationException($"configuration key '{key}': '{value}' is not an address like http://127.0.0.1:8080 or https://0.0.0.0:8443");
        if (uri.AbsolutePath != "/")
            throw new FlameConfigurationException($"configuration key '{key}': '{value}' has a path; give only http(s)://HOST:PORT");
        var tls = uri.Scheme == Uri.UriSchemeHttps;
        if (uri.IsLoopback && uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return new GatewayEndpoint(null, Localhost: true, uri.Port, tls);
        if (!IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
            throw new FlameConfigurationException($"configuration key '{key}': '{uri.Host}' is not an IP address; listen on an address such as 127.0.0.1 or 0.0.0.0");
        return new GatewayEndpoint(address, Localhost: false, uri.Port, tls);
    }
}
