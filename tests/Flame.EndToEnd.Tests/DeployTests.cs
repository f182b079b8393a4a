using System.Globalization;
using System.Text.RegularExpressions;
using Flame.Client;
using Flame.Client.Configuration;
using Flame.EndToEnd.Tests.Support;
using Grpc.Net.Client;
using YamlDotNet.RepresentationModel;

namespace Flame.EndToEnd.Tests;

/// <summary>deploy/compose.yaml as Compose itself reads it, and deploy/Dockerfile: checks that need no Docker engine.</summary>
public sealed class ComposeFileTests
{
    private static readonly TimeSpan ConfigTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ComposeConfig_AcceptsTheSecuredComposeFile_WithPostgresTwoSessionManagersAndTwoExecutorManagers()
    {
        var config = await ExternalCommand.RunAsync(
            "docker-compose", ["-f", "deploy/compose.yaml", "config"], ConfigTimeout,
            "docker-compose is required by this test (CI installs it): apt-get install docker-compose");

        Assert.True(config.ExitCode == 0, $"docker-compose config should accept deploy/compose.yaml{config}");
        var services = Mapping(Parse(config.StandardOutput), "services");

        var postgres = Mapping(services, "postgres");
        Assert.StartsWith("postgres:15", Scalar(postgres, "image"));
        Assert.Contains(Sequence(postgres, "volumes"), v => ((YamlScalarNode)v).Value!.Contains("001_orleans.sql:/docker-entrypoint-initdb.d/", StringComparison.Ordinal));
        AssertHealthCheck("postgres", postgres, "pg_isready");

        var sessionManagers = ServicesBuiltFrom(services, "session-manager");
        Assert.True(sessionManagers.Count == 2, $"expected 2 session managers, found {string.Join(", ", sessionManagers.Keys)}");
        foreach (var (name, sessionManager) in sessionManagers)
        {
            AssertHealthCheck(name, sessionManager, "flmctl health --endpoint https://127.0.0.1:8080");
            Assert.Equal("service_healthy", Scalar(Mapping(Mapping(sessionManager, "depends_on"), "postgres"), "condition"));
            Assert.Equal("service_completed_successfully", Scalar(Mapping(Mapping(sessionManager, "depends_on"), "certs"), "condition"));
            var environment = Mapping(sessionManager, "environment");
            Assert.Equal("Postgres", Scalar(environment, "Flame__Cluster__Provider"));
            Assert.Equal("false", Scalar(environment, "Flame__SessionManager__EmbeddedExecutorManager"));
            Assert.Equal("https://0.0.0.0:8080", Scalar(environment, "Flame__SessionManager__Endpoint"));
            Assert.Equal(name, Scalar(environment, "Flame__SessionManager__Name"));
            // Secured: its own certificate, the cluster's CA (silo mutual TLS), no anonymous access, an admin token.
            Assert.Equal($"/secrets/{name}.pem", Scalar(environment, "Flame__Security__Tls__CertificateFile"));
            Assert.Equal($"/secrets/{name}-key.pem", Scalar(environment, "Flame__Security__Tls__KeyFile"));
            Assert.Equal("/secrets/ca.pem", Scalar(environment, "Flame__Security__Tls__CaFile"));
            Assert.Equal("None", Scalar(environment, "Flame__Security__Anonymous"));
            Assert.Equal("/secrets/admin.token", Scalar(environment, "Flame__Security__AdminTokenFile"));
        }
        var clusterIds = sessionManagers.Values.Select(s => Scalar(Mapping(s, "environment"), "Flame__SessionManager__ClusterId")).Distinct().ToList();
        Assert.True(clusterIds.Count == 1, $"both session managers should join one cluster, ids: {string.Join(", ", clusterIds)}");
        var published = sessionManagers.Values.Select(s => ((YamlScalarNode)Assert.Single(Sequence(s, "ports"))).Value).ToList();
        Assert.Equal(["127.0.0.1:8080:8080/tcp", "127.0.0.1:8081:8080/tcp"], published.Order());

        Assert.Equal("certs", Scalar(Mapping(Mapping(services, "certs"), "build"), "target"));
        var issueTokens = Mapping(services, "issue-tokens");
        foreach (var name in sessionManagers.Keys)
            Assert.Equal("service_healthy", Scalar(Mapping(Mapping(issueTokens, "depends_on"), name), "condition"));
        var issue = string.Join(' ', Sequence(issueTokens, "entrypoint").Select(e => ((YamlScalarNode)e).Value));
        Assert.Contains("flmctl token create --name ", issue);
        Assert.Contains(" --role node --node ", issue);

        var executorManagers = ServicesBuiltFrom(services, "executor-manager");
        Assert.Equal(["executor-manager-1", "executor-manager-2"], executorManagers.Keys.Order());
        foreach (var (name, executorManager) in executorManagers)
        {
            Assert.Equal("service_completed_successfully", Scalar(Mapping(Mapping(executorManager, "depends_on"), "issue-tokens"), "condition"));
            var environment = Mapping(executorManager, "environment");
            // Every gateway, so that a node outlives the silo it talks to; over TLS with the cluster's CA and its node token.
            var gateways = Scalar(environment, "Flame__ExecutorManager__Endpoint").Split(',');
            Assert.Equal(sessionManagers.Keys.Select(n => $"https://{n}:8080").Order(), gateways.Order());
            Assert.Equal("/ca/ca.pem", Scalar(environment, "Flame__ExecutorManager__CaFile"));
            Assert.Equal("/token/node.token", Scalar(environment, "Flame__ExecutorManager__TokenFile"));
            var node = Scalar(environment, "Flame__ExecutorManager__NodeName");
            Assert.Contains(Sequence(executorManager, "volumes"), v => ((YamlScalarNode)v).Value == $"flame-node-{node}:/token:ro");
        }
    }

    /// <summary>
    /// The Dockerfile restores from the project files alone before it copies the sources; a project missing from that
    /// layer breaks the image build, which nothing here can run (no Docker engine), so check the list instead.
    /// </summary>
    [Fact]
    public void Dockerfile_CopiesEveryProjectOfThePublishedPrograms_BeforeRestoring()
    {
        var root = ExternalCommand.RepositoryRoot;
        var dockerfile = File.ReadAllLines(Path.Combine(root, "deploy", "Dockerfile"));
        var programs = dockerfile.Single(l => l.StartsWith("ENV PROGRAMS=", StringComparison.Ordinal))["ENV PROGRAMS=".Length..].Trim('"')
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var copied = dockerfile.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).SkipLast(1))
            .Where(f => f.EndsWith(".csproj", StringComparison.Ordinal))
            .ToHashSet();

        var needed = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(programs.Select(p => Directory.EnumerateFiles(Path.Combine(root, p), "*.csproj").Single()));
        while (pending.TryPop(out var project))
        {
            if (!needed.Add(Path.GetRelativePath(root, project).Replace('\\', '/')))
                continue;
            foreach (var reference in System.Xml.Linq.XDocument.Load(project).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, include)));
            }
        }
        var missing = needed.Except(copied).ToList();
        Assert.True(missing.Count == 0, $"deploy/Dockerfile restores before copying the sources, but has no COPY line for {string.Join(", ", missing)}");
    }

    private static YamlMappingNode Parse(IReadOnlyList<string> lines)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(string.Join('\n', lines)));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static Dictionary<string, YamlMappingNode> ServicesBuiltFrom(YamlMappingNode services, string target) =>
        services.Children
            .Where(s => s.Value is YamlMappingNode service && service.Children.ContainsKey("build")
                && Mapping(service, "build").Children.TryGetValue("target", out var t) && ((YamlScalarNode)t).Value == target)
            .ToDictionary(s => ((YamlScalarNode)s.Key).Value!, s => (YamlMappingNode)s.Value);

    private static void AssertHealthCheck(string service, YamlMappingNode node, string expected)
    {
        var test = Sequence(Mapping(node, "healthcheck"), "test").Select(t => ((YamlScalarNode)t).Value!).ToList();
        Assert.True(test.Count >= 2 && test[0] is "CMD" or "CMD-SHELL", $"{service}: expected a CMD health check, found [{string.Join(", ", test)}]");
        Assert.Contains(expected, string.Join(' ', test.Skip(1)), StringComparison.Ordinal);
    }

    private static YamlMappingNode Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var child) && child is YamlMappingNode mapping
            ? mapping
            : throw new Xunit.Sdk.XunitException($"expected a mapping '{key}' in: {string.Join(", ", node.Children.Keys)}");

    private static YamlSequenceNode Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var child) && child is YamlSequenceNode sequence
            ? sequence
            : throw new Xunit.Sdk.XunitException($"expected a list '{key}' in: {string.Join(", ", node.Children.Keys)}");

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var child) && child is YamlScalarNode { Value: { } value }
            ? value
            : throw new Xunit.Sdk.XunitException($"expected a value '{key}' in: {string.Join(", ", node.Children.Keys)}");
}

/// <summary>
/// deploy/local-cluster.sh: PostgreSQL, two silos, two executor managers as real processes, secured (https gateways,
/// silo mutual TLS, an admin token, node tokens), running the Pi sample and flmping through TLS with the token.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class LocalClusterTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan PiTimeout = TimeSpan.FromSeconds(180);
    private const string Script = "deploy/local-cluster.sh";

    [Fact]
    public async Task LocalCluster_RunsThePiSampleAndFlmping_SecuredThroughOneGatewayOfTwoSilos()
    {
        var state = Path.Combine(Path.GetTempPath(), $"fe2e-local-cluster-{Guid.NewGuid().ToString("N")[..8]}");
        var environment = new Dictionary<string, string>
        {
            ["FLAME_LOCAL_CLUSTER_DIR"] = state,
            // The test project's references built the programs in this configuration; don't build again.
            ["FLAME_LOCAL_CLUSTER_BUILD"] = "0",
            ["FLAME_LOCAL_CLUSTER_CONFIGURATION"] = ExternalCommand.Configuration,
            ["FLAME_LOCAL_CLUSTER_TIMEOUT"] = ((int)StartTimeout.TotalSeconds - 30).ToString(CultureInfo.InvariantCulture),
        };
        try
        {
            var start = await RunScriptAsync("start", StartTimeout, environment);
            Assert.True(start.ExitCode == 0, $"local-cluster.sh start should succeed{start}{Logs(state)}");
            var cluster = ReadClusterEnv(state);
            var gateways = cluster["GATEWAYS"].Split(',');
            Assert.Equal(2, gateways.Length);
            Assert.Equal(gateways[0], cluster["FLAME_ENDPOINT"]);
            Assert.All(gateways, g => Assert.StartsWith("https://127.0.0.1:", g));
            Assert.Contains(start.StandardOutput, l => l.Contains(gateways[1], StringComparison.Ordinal));
            var caFile = cluster["FLAME_CA_FILE"];
            var tokenFile = cluster["FLAME_TOKEN_FILE"];
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
            var token = File.ReadAllText(tokenFile).Trim();
            FlameConnection Secured(string endpoint, string? withToken) => new([new Uri(endpoint)], caFile, "cluster.env") { Token = withToken };
            var credentials = new Dictionary<string, string?> { ["FLAME_CA_FILE"] = caFile, ["FLAME_TOKEN_FILE"] = tokenFile };

            // Secured: a caller without the token is refused, over TLS verified with the cluster's CA.
            await using (var anonymous = new GrpcFlameClient(Secured(gateways[0], withToken: null)))
            {
                var refused = await Assert.ThrowsAsync<FlameException>(() => anonymous.ListNodesAsync().ToListAsync().AsTask());
                Assert.Equal(FlameErrorKind.Unauthenticated, refused.Kind);
            }

            // One cluster: each executor manager registered with its own gateway (with its node token), one gateway
            // lists both nodes, the other both silos (joined over mutual TLS).
            await using (var client = new GrpcFlameClient(Secured(gateways[0], token)))
            {
                var nodes = new List<string>();
                await foreach (var node in client.ListNodesAsync())
                {
                    if (node.State == NodeState.Ready)
                        nodes.Add(node.Name);
                }
                Assert.Equal(["em-1", "em-2"], nodes.Order());
            }
            using (var channel = GrpcFlameClient.CreateChannel(Secured(gateways[1], token)))
            {
                var view = await new Flame.V1.ClusterExt.ClusterExtClient(channel).GetClusterStatusAsync(new Flame.V1.GetClusterStatusRequest());
                Assert.Equal("Postgres", view.Membership);
                Assert.Equal(["session-manager-1 Active", "session-manager-2 Active"], view.Silos.Select(s => $"{s.Name} {s.Status}").Order());
            }

            var status = await RunScriptAsync("status", StopTimeout, environment);
            Assert.True(status.ExitCode == 0, $"local-cluster.sh status should report every process running{status}");
            foreach (var silo in new[] { "session-manager-1", "session-manager-2" })
                Assert.Contains(status.StandardOutput, l => SiloLine().Match(l) is { Success: true } m && m.Groups[1].Value == silo && m.Groups[2].Value == "Active");

            // The health check of the compose file's session managers, over both gateways.
            using (var health = ChildProcess.StartProgram("flmctl", "flmctl", ["health", "--endpoint", cluster["GATEWAYS"]], credentials))
            {
                var healthExit = await health.WaitForExitAsync(StopTimeout, "flmctl health to answer");
                Assert.True(healthExit == 0, $"flmctl health should exit with 0 on a healthy cluster, exited with {healthExit}{health.Tail()}");
            }

            using var pi = ChildProcess.StartProgram(
                "pi-client", "pi-client",
                ["--endpoint", gateways[0], "--tasks", "20", "--samples", "500000", "--app", $"pi-{Guid.NewGuid().ToString("N")[..8]}",
                 "--timeout", ((int)PiTimeout.TotalSeconds - 30).ToString(CultureInfo.InvariantCulture)], credentials);
            var piExit = await pi.WaitForExitAsync(PiTimeout, "pi-client to run 20 tasks");
            Assert.True(piExit == 0, $"pi-client should exit with 0, exited with {piExit}{pi.Tail()}{Logs(state)}");
            var estimate = pi.StandardOutput.Select(l => PiLine().Match(l)).SingleOrDefault(m => m.Success);
            Assert.True(estimate is not null, $"expected a line 'pi is about ...'{pi.Tail()}");
            var value = double.Parse(estimate.Groups[1].Value, CultureInfo.InvariantCulture);
            // 10,000,000 samples: the standard error is about 0.0005.
            Assert.InRange(value, 3.13, 3.15);

            using var ping = ChildProcess.StartProgram("flmping", Programs.Flmping, ["--endpoint", cluster["GATEWAYS"], "--tasks", "10"], credentials);
            var pingExit = await ping.WaitForExitAsync(PiTimeout, "flmping to run 10 tasks");
            Assert.True(pingExit == 0, $"flmping should exit with 0 through the secured cluster, exited with {pingExit}{ping.Tail()}{Logs(state)}");
        }
        finally
        {
            var postgresData = File.Exists(Path.Combine(state, "cluster.env")) ? ReadClusterEnv(state).GetValueOrDefault("POSTGRES_DATA") : null;
            var stop = await RunScriptAsync("stop", StopTimeout, environment);
            var stopped = stop.ExitCode == 0 && !File.Exists(Path.Combine(state, "cluster.env"))
                && (postgresData is null || !Directory.Exists(postgresData));
            if (stopped && Environment.GetEnvironmentVariable("FLAME_E2E_KEEP") != "1" && Directory.Exists(state))
                Directory.Delete(state, recursive: true);
            Assert.True(stopped, $"local-cluster.sh stop should stop the cluster and remove its state and {postgresData}{stop}");
        }
    }

    private static Task<CommandResult> RunScriptAsync(string command, TimeSpan timeout, IReadOnlyDictionary<string, string> environment) =>
        ExternalCommand.RunAsync("bash", [Script, command], timeout, "bash is required", environment);

    private static Dictionary<string, string> ReadClusterEnv(string state) =>
        File.ReadAllLines(Path.Combine(state, "cluster.env"))
            .Select(l => l.Split('=', 2))
            // The last line exports the client's variables; it has no '=' and is skipped.
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1]);

    /// <summary>The last lines of every log of the cluster, for failure messages.</summary>
    private static string Logs(string state)
    {
        var logs = Path.Combine(state, "logs");
        if (!Directory.Exists(logs))
            return "";
        return string.Concat(Directory.EnumerateFiles(logs).Order().Select(f =>
            $"\n--- {Path.GetFileName(f)}, last lines:\n  {string.Join("\n  ", File.ReadLines(f).TakeLast(15))}"));
    }

    // "  session-manager-1 127.0.0.1:23456 Active", a line of `local-cluster.sh status`.
    [GeneratedRegex(@"^\s+(\S+) \S+:\d+ (\w+)$")]
    private static partial Regex SiloLine();

    [GeneratedRegex(@"^pi is about (\d+\.\d+) ")]
    private static partial Regex PiLine();
}
