using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Flame.ObjectCache.Hosting;

namespace Flame.ObjectCache.Flight;

/// <summary>Where the cache listens and the URI it puts in object refs (flame-object-cache §3, §12).</summary>
/// <param name="Tls">Whether it serves TLS (<c>grpcs://</c>).</param>
/// <param name="Address">The address to listen on; null for every interface.</param>
/// <param name="Loopback">Listen on loopback only (<c>localhost</c>).</param>
/// <param name="Port">The port.</param>
/// <param name="Advertised">The URI in every ref, e.g. <c>grpc://10.0.0.7:9090</c>.</param>
public sealed record CacheEndpoint(bool Tls, IPAddress? Address, bool Loopback, int Port, string Advertised)
{
    /// <summary>Resolves the options; a value that cannot be used throws with its configuration key.</summary>
    /// <exception cref="FlameConfigurationException">An unusable endpoint, interface pattern or TLS setting.</exception>
    public static CacheEndpoint Resolve(FlameObjectCacheOptions options)
    {
        const string key = $"{FlameObjectCacheOptions.Section}:Endpoint";
        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("grpc" or "grpcs" or "http" or "https") || uri.Port <= 0
            || uri.AbsolutePath != "/")
            throw new FlameConfigurationException($"configuration key '{key}': '{options.Endpoint}' is not grpc://HOST:PORT or grpcs://HOST:PORT (or 'none')");
        var tls = uri.Scheme is "grpcs" or "https";
        if (tls && (string.IsNullOrWhiteSpace(options.CertificateFile) || string.IsNullOrWhiteSpace(options.KeyFile)))
            throw new FlameConfigurationException(
                $"configuration key '{key}': a grpcs:// endpoint needs {FlameObjectCacheOptions.Section}:CertificateFile and :KeyFile (PEM)");
        IPAddress? address = null;
        var loopback = false;
        if (options.NetworkInterface is { Length: > 0 } pattern)
            address = InterfaceAddress(pattern);
        else if (uri.IsLoopback && !IPAddress.TryParse(uri.Host, out _))
            loopback = true;
        else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
            address = ip;
        var advertised = options.AdvertisedEndpoint;
        if (string.IsNullOrWhiteSpace(advertised))
        {
            var host = address is not null && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any) ? address.ToString()
                : address is not null ? FirstIPv4(_ => true)?.ToString() ?? "127.0.0.1"
                : loopback ? "127.0.0.1" : uri.Host;
            advertised = $"{(tls ? "grpc+tls" : "grpc")}://{host}:{uri.Port}";
        }
        if (address is not null && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
            address = null;
        return new CacheEndpoint(tls, address, loopback, uri.Port, advertised);
    }

    private static IPAddress InterfaceAddress(string pattern)
    {
        const string key = $"{FlameObjectCacheOptions.Section}:NetworkInterface";
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new FlameConfigurationException($"configuration key '{key}': '{pattern}' is not a regular expression: {ex.Message}");
        }
        return FirstIPv4(n => regex.IsMatch(n.Name))
            ?? throw new FlameConfigurationException($"configuration key '{key}': no network interface matching '{pattern}' has an IPv4 address");
    }

    private static IPAddress? FirstIPv4(Func<NetworkInterface, bool> match) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => match(n) && (n.NetworkInterfaceType != NetworkInterfaceType.Loopback || n.Name == "lo"))
            .OrderBy(n => n.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
}
