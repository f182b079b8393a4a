using System.Text.RegularExpressions;
using Flame.EndToEnd.Tests.Support;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// A secured one-command cluster, as real processes: an <c>https://</c> gateway with a certificate of a CA made by the
/// test, a bootstrap admin token and anonymous callers as users.
/// </summary>
public sealed partial class SecurityEndToEndTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// flmping sends no token and trusts the gateway through FLAME_CA_FILE, as flamepy does: with Anonymous=User it runs
    /// sessions over TLS. The embedded executor manager
    /// cannot call the Backend as that anonymous user: it runs the tasks with the node token its session manager
    /// minted for it, bound to its node.
    /// </summary>
    [Fact]
    public async Task TokenlessClient_RunsTasks_OnTheEmbeddedNode_WhenAnonymousIsUser()
    {
        var admin = TokenSecrets.NewSecret();
        var tokenFile = Path.Combine(Path.GetTempPath(), $"fe2e-admin-{Guid.NewGuid():N}.token");
        await File.WriteAllTextAsync(tokenFile, admin + "\n");
        using var certificates = Flame.Testing.TestCertificates.Create();
        certificates.Issue();
        try
        {
            await using var cluster = await FlameCluster.StartAsync("secured", new Dictionary<string, string>
            {
                ["Flame:Security:Tls:CertificateFile"] = certificates.CertificateFile,
                ["Flame:Security:Tls:KeyFile"] = certificates.KeyFile,
                ["Flame:Security:Tls:CaFile"] = certificates.CaFile,
                ["Flame:Security:Anonymous"] = "User",
                ["Flame:Security:AdminTokenFile"] = tokenFile,
            }, token: admin, caFile: certificates.CaFile);
            await cluster.UntilEmbeddedNodeAndFlmpingAsync();

            Assert.StartsWith("https://", cluster.Endpoint);
            using var flmping = ChildProcess.StartProgram("flmping", Programs.Flmping, ["-e", cluster.Endpoint, "-t", "20"],
                new Dictionary<string, string?> { ["FLAME_CA_FILE"] = certificates.CaFile, ["FLAME_TOKEN"] = null, ["FLAME_TOKEN_FILE"] = null });
            var exitCode = await flmping.WaitForExitAsync(RunTimeout, "flmping to run 20 tasks without a token");

            Assert.True(exitCode == 0, $"flmping should exit with 0, exited with {exitCode}{flmping.Tail()}{cluster.Tails()}");
            Assert.Matches(FinalLine(), flmping.StandardOutput.LastOrDefault(l => l.Length > 0) ?? "");
            Assert.Contains(cluster.SessionManager.Output, l => NodeAudit().IsMatch(l));
            Assert.DoesNotContain(cluster.SessionManager.Output, l => l.Contains(admin, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [GeneratedRegex(@"^Total:\s+20\s+Succeed:\s+20\s+Failed:\s+0\s+Pending:\s+0\s+Running:\s+0\s*$")]
    private static partial Regex FinalLine();

    [GeneratedRegex(@"Audit: embedded-\S+ \(role node, anonymous False\) RegisterNode '\S+': ok")]
    private static partial Regex NodeAudit();
}
