using System.Security.Cryptography.X509Certificates;
using Flame.Channels;
using Orleans.Connections.Security;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// Mutual TLS between the silos of a PostgreSQL cluster and on the Orleans client gateway port: each side presents the
/// gateway's certificate (so it needs both serverAuth and clientAuth usages) and accepts only a certificate that chains
/// to <c>Flame:Security:Tls:CaFile</c>.
/// </summary>
internal static class SiloTls
{
    /// <summary>Turns on TLS for the silo's connections with <paramref name="certificate"/> and the CA in <paramref name="caFile"/>.</summary>
    /// <exception cref="FlameConfigurationException">The CA file cannot be read or holds no certificate.</exception>
    public static void Use(ISiloBuilder silo, GatewayCertificate certificate, string caFile)
    {
        var trust = ReadCa(caFile);
        silo.UseTls(certificate.Current, tls =>
        {
            // Read again with the gateway's certificate, so that one renewal serves both.
            tls.LocalServerCertificateSelector = (_, _) => certificate.Current;
            tls.LocalClientCertificateSelector = (_, _, _, _, _) => certificate.Current;
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            // Silos reach each other by the IP addresses in the membership table, which certificates rarely name: the
            // chain to the cluster's own CA is what is checked, not the name.
            tls.RemoteCertificateValidation = (remote, _, _) => trust(remote);
        });
    }

    private static Func<X509Certificate2, bool> ReadCa(string caFile)
    {
        try
        {
            return GatewayCredentials.ChainsTo(caFile);
        }
        catch (GatewayCredentialsException ex)
        {
            throw new FlameConfigurationException($"configuration key 'Flame:Security:Tls:CaFile': {ex.Message}");
        }
    }
}
