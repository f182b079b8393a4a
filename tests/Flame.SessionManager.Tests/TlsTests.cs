using System.Diagnostics;
using Flame.Client;
using Flame.Client.Configuration;
using Flame.SessionManager.Tests.Support;

namespace Flame.SessionManager.Tests;

/// <summary>
/// The gateway over real TLS on real sockets, with a CA the test makes: who is served, who is refused, a certificate
/// replaced while it runs, and the embedded executor manager running tasks through its https gateway.
/// </summary>
public sealed class TlsTests
{
    private static Dictionary<string, string?> Https(TestCertificates certificates, out string endpoint)
    {
        endpoint = $"https://127.0.0.1:{FreePorts.Next()}";
        return new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = endpoint,
            ["Flame:Security:Tls:CertificateFile"] = certificates.CertificateFile,
            ["Flame:Security:Tls:KeyFile"] = certificates.KeyFile,
            ["Flame:Security:Tls:CaFile"] = certificates.CaFile,
        };
    }

    private static FlameConnection Connection(string endpoint, string? caFile) => new([new Uri(endpoint)], caFile, "test");

    [Fact]
    public async Task HttpsGateway_ServesHttp2_ToAClientThatTrustsItsCa()
    {
        using var certificates = TestCertificates.Create();
        var serial = certificates.Issue();
        await using var gateway = await InProcessGateway.StartAsync(Https(certificates, out var endpoint));

        await using var client = new GrpcFlameClient(Connection(endpoint, certificates.CaFile));
        var applications = await client.ListApplicationsAsync().ToListAsync();
        var (presented, protocol) = await TestCertificates.HandshakeAsync("127.0.0.1", new Uri(endpoint).Port);

        Assert.Empty(applications);
        Assert.Equal(serial, presented);
        Assert.Equal("h2", protocol);
    }

    [Fact]
    public async Task HttpsGateway_RefusesAClient_ThatDoesNotTrustItsCa()
    {
        using var certificates = TestCertificates.Create();
        certificates.Issue();
        using var other = TestCertificates.Create("Some other CA");
        await using var gateway = await InProcessGateway.StartAsync(Https(certificates, out var endpoint));

        await using var stranger = new GrpcFlameClient(Connection(endpoint, other.CaFile));
        var error = await Assert.ThrowsAsync<FlameException>(() => stranger.ListApplicationsAsync().ToListAsync().AsTask());

        Assert.Equal(FlameErrorKind.Unavailable, error.Kind);
        Assert.StartsWith("TLS handshake with the gateway failed", error.Message);
    }

    [Fact]
    public async Task HttpsGateway_ServesAReplacedCertificate_WithoutARestart()
    {
        using var certificates = TestCertificates.Create();
        var first = certificates.Issue();
        await using var gateway = await InProcessGateway.StartAsync(Https(certificates, out var endpoint));
        var port = new Uri(endpoint).Port;
        Assert.Equal(first, (await TestCertificates.HandshakeAsync("127.0.0.1", port)).Serial);

        var second = certificates.Issue();

        var presented = first;
        await Wait.UntilAsync(async () => (presented = (await TestCertificates.HandshakeAsync("127.0.0.1", port)).Serial) == second,
            $"the gateway to present the replaced certificate {second}", seen: () => Task.FromResult(presented));
        await using var client = new GrpcFlameClient(Connection(endpoint, certificates.CaFile));
        Assert.Empty(await client.ListApplicationsAsync().ToListAsync());
    }

    [Fact]
    public async Task EmbeddedExecutorManager_RunsTasks_ThroughItsHttpsGateway()
    {
        using var certificates = TestCertificates.Create();
        certificates.Issue();
        var settings = Https(certificates, out var endpoint);
        settings["Flame:SessionManager:EmbeddedExecutorManager"] = "true";
        settings["Flame:SessionManager:RegisterBuiltInApplications"] = "true";
        settings["Flame:ExecutorManager:Slots"] = "1";
        settings["Flame:ExecutorManager:WorkDirectory"] = Path.Combine(certificates.Directory, "work");
        await using var gateway = await InProcessGateway.StartAsync(settings);

        await using var client = new GrpcFlameClient(Connection(endpoint, certificates.CaFile));
        await Wait.UntilAsync(async () => (await client.ListApplicationsAsync().ToListAsync()).Any(a => a.Name == "flmping"),
            "the built-in flmping application to be registered");
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = "flmping" });
        var task = await Wait.For(client.RunTaskAsync(session.Id, [1, 2, 3]), "a task run by the executor manager over TLS");

        Assert.Equal(TaskState.Succeed, task.State);
    }

    // ------------------------------------------------------------ start refusals, from the real executable

    public static TheoryData<string[], string> Refusals => new()
    {
        { ["--Flame:SessionManager:Endpoint=http://0.0.0.0:{port}"], "beyond loopback without TLS" },
        { ["--Flame:SessionManager:Endpoint=https://127.0.0.1:{port}"], "'Flame:Security:Tls:CertificateFile' and 'KeyFile' are not set" },
        { ["--Flame:SessionManager:Endpoint=http://127.0.0.1:{port}", "--Flame:Security:Tls:CertificateFile={cert}", "--Flame:Security:Tls:KeyFile={key}"],
            "is set but 'Flame:SessionManager:Endpoint' is http://" },
        { ["--Flame:SessionManager:Endpoint=https://0.0.0.0:{port}", "--Flame:Security:Tls:CertificateFile={cert}", "--Flame:Security:Tls:KeyFile={key}",
            "--Flame:Security:Anonymous=Admin"], "without authentication (Flame:Security:Anonymous is Admin; set None)" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task SessionManager_RefusesToStart_WithOneLineAndExitCode2(string[] args, string expected)
    {
        using var certificates = TestCertificates.Create();
        certificates.Issue();
        var port = FreePorts.Next().ToString();
        var (code, stderr) = await RunSessionManagerAsync(args.Select(a => a.Replace("{port}", port)
            .Replace("{cert}", certificates.CertificateFile).Replace("{key}", certificates.KeyFile)));

        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("flame-session-manager: ", line);
        Assert.Contains(expected, line);
        if (expected.Contains("beyond loopback", StringComparison.Ordinal) || expected.Contains("authentication", StringComparison.Ordinal))
            Assert.Contains("Flame:Security:AllowInsecure=true", line);
    }

    /// <summary>Runs flame-session-manager until it exits (a refusal comes before anything starts); its exit code and stderr.</summary>
    private static async Task<(int Code, string Stderr)> RunSessionManagerAsync(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "flame-session-manager.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--Flame:Storage:Provider=Memory");
        start.ArgumentList.Add("--Flame:SessionManager:EmbeddedExecutorManager=false");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            await Wait.For(process.WaitForExitAsync(), "flame-session-manager to refuse to start and exit");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        await stdout;
        return (process.ExitCode, await stderr);
    }
}
