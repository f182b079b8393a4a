using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flame.Channels;

/// <summary>
/// How a client or an executor manager checks the gateway and reads its own token: the CA that must have signed the
/// gateway's certificate, and the file holding the bearer token (sent by <see cref="GatewayChannels.WithToken"/>).
/// Shared by the .NET client, the CLIs and the executor manager, so that all read files the same way.
/// </summary>
public static class GatewayCredentials
{
    /// <summary>
    /// A validation callback that accepts a certificate only if it is for the host asked for and chains to one of
    /// the certificates in the PEM file <paramref name="caFile"/> (the system's roots are not consulted).
    /// </summary>
    /// <exception cref="GatewayCredentialsException">The file cannot be read or holds no certificate.</exception>
    public static RemoteCertificateValidationCallback TrustOnly(string caFile)
    {
        var chainsToCa = ChainsTo(caFile);
        return (_, certificate, _, errors) =>
        {
            // A wrong host name or no certificate at all is never accepted; chain errors are decided by our CA.
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                return false;
            var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chainsToCa(leaf);
        };
    }

    /// <summary>A check that a certificate chains to one of the certificates in the PEM file <paramref name="caFile"/>, and to nothing else.</summary>
    /// <exception cref="GatewayCredentialsException">The file cannot be read or holds no certificate.</exception>
    public static Func<X509Certificate2, bool> ChainsTo(string caFile)
    {
        ArgumentNullException.ThrowIfNull(caFile);
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new GatewayCredentialsException($"{caFile}: cannot read the CA certificates: {ex.Message}");
        }
        if (roots.Count == 0)
            throw new GatewayCredentialsException($"{caFile}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return certificate =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        };
    }

    /// <summary>
    /// Reads a token file: its first line, trimmed. A file that group or others may read is accepted, with
    /// <paramref name="warning"/> saying so (a token is a password).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="source">How the file was named (a key, a variable, an option), for messages.</param>
    /// <param name="warning">One line to show the user, or null.</param>
    /// <exception cref="GatewayCredentialsException">The file is missing, unreadable or empty.</exception>
    public static string ReadTokenFile(string path, string source, out string? warning)
    {
        ArgumentNullException.ThrowIfNull(path);
        warning = null;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new GatewayCredentialsException($"{source}: the token file '{path}' does not exist");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GatewayCredentialsException($"{source}: cannot read the token file '{path}': {ex.Message}");
        }
        var token = text.Split('\n', 2)[0].Trim();
        if (token.Length == 0)
            throw new GatewayCredentialsException($"{source}: the token file '{path}' is empty");
        if (!OperatingSystem.IsWindows()
            && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            warning = $"{source}: the token file '{path}' can be read by group or others; chmod 600 it";
        return token;
    }
}

/// <summary>A CA file or token file cannot be used; the message names the file and the setting that named it.</summary>
public sealed class GatewayCredentialsException(string message) : Exception(message);
