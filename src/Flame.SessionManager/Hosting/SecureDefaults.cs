using System.Net;
using Flame.SessionManager.Options;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// What the security settings amount to, decided before anything starts: a process reachable from other machines
/// (a gateway beyond loopback, or the silo ports of a PostgreSQL cluster beyond loopback) needs TLS and
/// authentication, unless <c>Flame:Security:AllowInsecure</c> says otherwise.
/// </summary>
/// <param name="Anonymous">What a caller without a token may do, the default resolved.</param>
/// <param name="GatewayTls">The gateway serves https.</param>
/// <param name="SiloTls">Silo-to-silo and Orleans client traffic use mutual TLS (PostgreSQL cluster with certificates).</param>
/// <param name="Summary">The one line logged at start.</param>
/// <param name="Insecure">True when something is missing and AllowInsecure let the process start anyway: log it as a warning.</param>
public sealed record SecureDefaults(AnonymousAccess Anonymous, bool GatewayTls, bool SiloTls, string Summary, bool Insecure)
{
    private const string Section = FlameSecurityOptions.Section;

    /// <summary>Decides, or refuses the configuration.</summary>
    /// <param name="endpoint">Where the gateway listens.</param>
    /// <param name="security">Section <c>Flame:Security</c>.</param>
    /// <param name="anonymous">What a caller without a token may do, its default resolved for <paramref name="endpoint"/>.</param>
    /// <param name="cluster">Section <c>Flame:Cluster</c>.</param>
    /// <param name="advertised">The silo's advertised address (what it binds to in a PostgreSQL cluster), if set.</param>
    /// <param name="backend">
    /// Where the Backend's own port listens (<c>Flame:SessionManager:BackendEndpoint</c>), if it has one: the process is
    /// exposed when either port listens beyond loopback.
    /// </param>
    /// <exception cref="FlameConfigurationException">
    /// Keys that contradict each other (https without a certificate, a certificate on http), or a process reachable
    /// from other machines without TLS or authentication and without AllowInsecure; the one line names what is missing.
    /// </exception>
    public static SecureDefaults Decide(GatewayEndpoint endpoint, FlameSecurityOptions security, AnonymousAccess anonymous,
        FlameClusterOptions cluster, IPAddress? advertised, GatewayEndpoint? backend = null)
    {
        var tls = security.Tls;
        var hasCertificate = !string.IsNullOrWhiteSpace(tls.CertificateFile);
        var hasKey = !string.IsNullOrWhiteSpace(tls.KeyFile);
        if (hasCertificate != hasKey)
            throw new FlameConfigurationException(
                $"configuration key '{Section}:Tls:{(hasCertificate ? "KeyFile" : "CertificateFile")}': required with '{Section}:Tls:{(hasCertificate ? "CertificateFile" : "KeyFile")}' (a PEM certificate and its key)");
        if (endpoint.Tls && !hasCertificate)
            throw new FlameConfigurationException(
                $"configuration key '{FlameSessionManagerOptions.Section}:Endpoint' is https:// but '{Section}:Tls:CertificateFile' and 'KeyFile' are not set: give the PEM certificate and key");
        if (!endpoint.Tls && hasCertificate)
            throw new FlameConfigurationException(
                $"configuration key '{Section}:Tls:CertificateFile' is set but '{FlameSessionManagerOptions.Section}:Endpoint' is http://: use an https:// endpoint");

        // The Backend's port uses the frontend's scheme (BackendPort.Resolve), so the frontend's TLS covers it too.
        var backendExposed = backend is { IsLoopback: false };
        var gatewayExposed = !endpoint.IsLoopback || backendExposed;
        var postgres = cluster.Provider == ClusterProvider.Postgres;
        var siloExposed = postgres && (advertised is null || !IPAddress.IsLoopback(advertised));
        var siloTls = postgres && hasCertificate && !string.IsNullOrWhiteSpace(tls.CaFile);

        var missing = new List<string>();
        if (gatewayExposed && !endpoint.Tls)
            missing.Add($"TLS (an https:// endpoint with {Section}:Tls:CertificateFile and KeyFile)");
        if (gatewayExposed && anonymous != AnonymousAccess.None)
            missing.Add($"authentication ({Section}:Anonymous is {anonymous}; set None)");
        if (siloExposed && !siloTls)
            missing.Add($"silo TLS ({Section}:Tls:CertificateFile, KeyFile and CaFile)");

        var listens = Url(endpoint);
        var exposure = !endpoint.IsLoopback ? $"the gateway listens on {listens} beyond loopback"
            : backendExposed ? $"the Backend port listens on {Url(backend!)} beyond loopback ({FlameSessionManagerOptions.Section}:BackendEndpoint)"
            : $"the silo ports listen beyond loopback ({(advertised is null ? "no Flame:Cluster:AdvertisedAddress" : advertised.ToString())})";
        if (missing.Count > 0 && !security.AllowInsecure)
            throw new FlameConfigurationException(
                $"{exposure} without {string.Join(", ", missing)}; set them, or {Section}:AllowInsecure=true to run insecure anyway");
        if (missing.Count > 0)
            return new SecureDefaults(anonymous, endpoint.Tls, siloTls,
                $"security: INSECURE ({Section}:AllowInsecure=true): {exposure} without {string.Join(", ", missing)}", Insecure: true);

        var summary = !gatewayExposed && !siloExposed && !endpoint.Tls
            ? $"security: loopback only ({listens}), anonymous callers are {anonymous.ToString().ToLowerInvariant()} ({Section})"
            : $"security: gateway {listens}{(endpoint.Tls ? " (TLS)" : "")}, anonymous callers: {anonymous.ToString().ToLowerInvariant()}"
              + (postgres ? $", silo traffic {(siloTls ? "mutual TLS" : "plaintext on loopback")}" : "") + $" ({Section})";
        return new SecureDefaults(anonymous, endpoint.Tls, siloTls, summary, Insecure: false);
    }

    private static string Url(GatewayEndpoint endpoint)
    {
        var where = endpoint.Localhost ? "localhost" : endpoint.Address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{endpoint.Address}]" : endpoint.Address.ToString();
        return $"{(endpoint.Tls ? "https" : "http")}://{where}:{endpoint.Port}";
    }
}
