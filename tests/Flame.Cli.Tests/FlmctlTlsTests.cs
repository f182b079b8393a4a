using Flame.Cli.Control;

namespace Flame.Cli.Tests;

/// <summary>flmctl against an https gateway with a CA the test makes: trusted through flame.yaml, refused without it.</summary>
public sealed class FlmctlTlsTests
{
    private static async Task<(int Code, string Stdout, string Stderr)> Flmctl(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Control.Flmctl.RunAsync(args, stdout, stderr, color: false);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static async Task<InProcessGateway> HttpsGateway(TestCertificates certificates) =>
        await InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = $"https://127.0.0.1:{FreePorts.Next()}",
            ["Flame:Security:Tls:CertificateFile"] = certificates.CertificateFile,
            ["Flame:Security:Tls:KeyFile"] = certificates.KeyFile,
        });

    [Fact]
    public async Task Flmctl_ListsApplications_OverTls_WithTheContextsCaFile()
    {
        using var certificates = TestCertificates.Create();
        certificates.Issue();
        await using var gateway = await HttpsGateway(certificates);
        var config = Path.Combine(certificates.Directory, "flame.yaml");
        File.WriteAllText(config, $"""
            current-context: secured
            contexts:
              - name: secured
                cluster:
                  endpoint: {gateway.Endpoint}
                  tls:
                    ca_file: {certificates.CaFile}
            """);

        var (code, _, stderr) = await Flmctl("list", "-a", "--config", config);

        Assert.Equal("", stderr);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task Flmctl_IsRefused_InOneLineWithExitCode1_WithoutTheGatewaysCa()
    {
        using var certificates = TestCertificates.Create();
        certificates.Issue();
        await using var gateway = await HttpsGateway(certificates);

        var (code, _, stderr) = await Flmctl("list", "-a", "--endpoint", gateway.Endpoint);

        Assert.Equal(1, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("flmctl: cannot reach the Flame endpoint: ", line);
        Assert.Contains("TLS handshake with the gateway failed", line);
        Assert.Contains("FLAME_CA_FILE", line);
    }
}
