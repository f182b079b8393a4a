using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Flame.Client.Configuration;

/// <summary>Verification of a gateway's TLS certificate against the CA of a client configuration's <c>tls.ca_file</c>.</summary>
internal static class GatewayTls
{
    /// <summary>
    /// A validation callback that accepts a certificate only if it is for the host asked for and chains to one of
    /// the certificates in the PEM file <paramref name="caFile"/> (the system's roots are not consulted).
    /// </summary>
    /// <exception cref="FlameClientConfigurationException">The file cannot be read or holds no certificate.</exception>
    public static RemoteCertificateValidationCallback TrustOnly(string caFile)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new FlameClientConfigurationException($"{caFile}: cannot read the CA certificates: {ex.Message}");
        }
        if (roots.Count == 0)
            throw new FlameClientConfigurationException($"{caFile}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)");

        return (_, certificate, _, errors) =>
        {
            // A wrong host name or no certificate at all is never accepted; chain errors are decided by our CA.
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(leaf);
        };
    }
}
