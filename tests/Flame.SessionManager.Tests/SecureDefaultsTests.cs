using System.Net;
using Flame.SessionManager.Hosting;
using Flame.SessionManager.Options;

namespace Flame.SessionManager.Tests;

/// <summary>What the security settings amount to at start: pure logic, the refusals from the real executable are in TlsTests.</summary>
public sealed class SecureDefaultsTests
{
    private static readonly FlameClusterOptions Localhost = new();
    private static readonly FlameClusterOptions Postgres = new() { Provider = ClusterProvider.Postgres, ConnectionString = "Host=db" };

    private static FlameSecurityOptions WithCertificate(bool ca = true, bool allowInsecure = false) => new()
    {
        AllowInsecure = allowInsecure,
        Tls = new FlameTlsOptions { CertificateFile = "c.pem", KeyFile = "k.pem", CaFile = ca ? "ca.pem" : null },
    };

    private static GatewayEndpoint Endpoint(string value) => GatewayEndpoint.Parse(value, "Flame:SessionManager:Endpoint");

    [Fact]
    public void EmbeddedDefault_OnLoopback_SaysInOneLineThatAnonymousCallersAreAdmin()
    {
        var decided = SecureDefaults.Decide(Endpoint("http://127.0.0.1:8080"), new FlameSecurityOptions(), AnonymousAccess.Admin, Localhost, null);

        Assert.False(decided.Insecure);
        Assert.Equal("security: loopback only (http://127.0.0.1:8080), anonymous callers are admin (Flame:Security)", decided.Summary);
    }

    [Fact]
    public void GatewayBeyondLoopback_WithoutTls_StartsWithAWarning_OnlyWithAllowInsecure()
    {
        var refused = Assert.Throws<FlameConfigurationException>(() => SecureDefaults.Decide(
            Endpoint("http://0.0.0.0:8080"), new FlameSecurityOptions(), AnonymousAccess.None, Localhost, null));
        var allowed = SecureDefaults.Decide(
            Endpoint("http://0.0.0.0:8080"), new FlameSecurityOptions { AllowInsecure = true }, AnonymousAccess.None, Localhost, null);

        Assert.Equal("the gateway listens on http://0.0.0.0:8080 beyond loopback without TLS (an https:// endpoint with Flame:Security:Tls:CertificateFile and KeyFile); "
                     + "set them, or Flame:Security:AllowInsecure=true to run insecure anyway", refused.Message);
        Assert.True(allowed.Insecure);
        Assert.StartsWith("security: INSECURE (Flame:Security:AllowInsecure=true): the gateway listens on http://0.0.0.0:8080", allowed.Summary);
    }

    [Fact]
    public void BackendPortBeyondLoopback_NeedsTlsAndAuthentication_EvenBehindALoopbackFrontend()
    {
        var refused = Assert.Throws<FlameConfigurationException>(() => SecureDefaults.Decide(
            Endpoint("http://127.0.0.1:8080"), new FlameSecurityOptions(), AnonymousAccess.Admin, Localhost, null, Endpoint("http://0.0.0.0:8081")));
        var secured = SecureDefaults.Decide(
            Endpoint("https://127.0.0.1:8443"), WithCertificate(), AnonymousAccess.None, Localhost, null, Endpoint("https://0.0.0.0:8444"));

        Assert.Equal("the Backend port listens on http://0.0.0.0:8081 beyond loopback (Flame:SessionManager:BackendEndpoint) without "
                     + "TLS (an https:// endpoint with Flame:Security:Tls:CertificateFile and KeyFile), authentication (Flame:Security:Anonymous is Admin; set None); "
                     + "set them, or Flame:Security:AllowInsecure=true to run insecure anyway", refused.Message);
        Assert.False(secured.Insecure);
    }

    [Fact]
    public void PostgresSilo_BeyondLoopback_NeedsSiloTls_EvenBehindALoopbackGateway()
    {
        var refused = Assert.Throws<FlameConfigurationException>(() => SecureDefaults.Decide(
            Endpoint("https://127.0.0.1:8443"), WithCertificate(ca: false), AnonymousAccess.None, Postgres, IPAddress.Parse("10.0.0.5")));
        var secured = SecureDefaults.Decide(
            Endpoint("https://127.0.0.1:8443"), WithCertificate(), AnonymousAccess.None, Postgres, IPAddress.Parse("10.0.0.5"));
        var onLoopback = SecureDefaults.Decide(
            Endpoint("http://127.0.0.1:8080"), new FlameSecurityOptions(), AnonymousAccess.Admin, Postgres, IPAddress.Loopback);

        Assert.Contains("the silo ports listen beyond loopback (10.0.0.5) without silo TLS (Flame:Security:Tls:CertificateFile, KeyFile and CaFile)", refused.Message);
        Assert.True(secured.SiloTls);
        Assert.False(onLoopback.SiloTls);
        Assert.False(onLoopback.Insecure);
    }

    [Fact]
    public void SecuredGateway_BeyondLoopback_Starts()
    {
        var decided = SecureDefaults.Decide(Endpoint("https://0.0.0.0:8443"), WithCertificate(), AnonymousAccess.None, Localhost, null);

        Assert.False(decided.Insecure);
        Assert.True(decided.GatewayTls);
        Assert.Equal("security: gateway https://0.0.0.0:8443 (TLS), anonymous callers: none (Flame:Security)", decided.Summary);
    }
}
