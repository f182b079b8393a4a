using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flame.Testing;

/// <summary>
/// A throwaway CA made by the test, and certificates it signs for 127.0.0.1 and localhost, written as PEM files into a
/// directory of their own (removed on dispose): what deploy/make-certs.sh makes with openssl, made in-process.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly X509Certificate2 _ca;
    private int _issued;

    private TestCertificates(string directory, X509Certificate2 ca)
    {
        Directory = directory;
        _ca = ca;
        CaFile = Path.Combine(directory, "ca.pem");
        File.WriteAllText(CaFile, ca.ExportCertificatePem());
    }

    /// <summary>The directory holding the files.</summary>
    public string Directory { get; }

    /// <summary>The CA's certificate (PEM): what clients trust.</summary>
    public string CaFile { get; }

    /// <summary>The server certificate written by <see cref="Issue"/> (PEM), under a fixed name so that it can be replaced.</summary>
    public string CertificateFile => Path.Combine(Directory, "server.pem");

    /// <summary>The key of <see cref="CertificateFile"/> (PEM).</summary>
    public string KeyFile => Path.Combine(Directory, "server-key.pem");

    /// <summary>A new CA, named <paramref name="name"/>, and its directory.</summary>
    public static TestCertificates Create(string name = "Flame test CA")
    {
        var directory = Path.Combine(Path.GetTempPath(), "flame-tls-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        return new TestCertificates(directory, ca);
    }

    /// <summary>
    /// Signs a new certificate for 127.0.0.1, ::1 and localhost (server and client authentication) and writes it and
    /// its key over <see cref="CertificateFile"/> and <see cref="KeyFile"/>; returns its serial number.
    /// </summary>
    public string Issue()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=flame-test-{Interlocked.Increment(ref _issued)}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        // The key first, then the certificate: a reader that sees the new certificate also finds its key.
        File.WriteAllText(KeyFile, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(CertificateFile, certificate.ExportCertificatePem());
        return certificate.SerialNumber;
    }

    /// <summary>
    /// The serial number of the certificate that <paramref name="host"/>:<paramref name="port"/> presents in a TLS
    /// handshake offering h2, and the protocol the server chose by ALPN.
    /// </summary>
    public static async Task<(string Serial, string Protocol)> HandshakeAsync(string host, int port)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(host, port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = host,
            ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http2],
        });
        return (tls.RemoteCertificate!.GetSerialNumberString(), tls.NegotiatedApplicationProtocol.ToString());
    }

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
    }
}
