using System.Text.Json;
using Flame.Cli.Control;

namespace Flame.Cli.Tests;

/// <summary>
/// flmctl reading the client configuration file (given with --config, so no test changes the process environment)
/// against the in-process gateway: contexts, several endpoints, and one line and an exit code for every bad input;
/// and flmctl health.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ClientConfigurationTests(GatewayFixture gateway) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flmctl-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Result(int Code, string Out, string Err)
    {
        public string[] Lines => Out.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
    }

    private static async Task<Result> Run(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Flmctl.RunAsync(args, stdout, stderr, color: false);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertOneLineError(Result result, int code, string contains)
    {
        Assert.Equal((code, ""), (result.Code, result.Out));
        var err = result.Err.ReplaceLineEndings("\n").TrimEnd('\n');
        Assert.DoesNotContain('\n', err);
        Assert.StartsWith("flmctl: ", err);
        Assert.Contains(contains, err);
    }

    private string Config(string yaml)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8] + ".yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static string Context(string name, params string[] endpoints) =>
        $"  - name: {name}\n    cluster:\n      endpoints: [{string.Join(", ", endpoints)}]\n";

    // A loopback port nothing listens on: connections to it are refused.
    private static string DeadEndpoint() => $"http://127.0.0.1:{FreePorts.Next()}";

    private async Task<string> RegisterAppAsync()
    {
        var name = "cfg-" + Guid.NewGuid().ToString("N")[..8];
        await gateway.Client.RegisterApplicationAsync(name, new ApplicationSpec { Command = "/bin/true" });
        return name;
    }

    [Fact]
    public async Task CurrentContext_IsWhereFlmctlConnects()
    {
        var app = await RegisterAppAsync();
        var config = Config($"current-context: here\ncontexts:\n{Context("elsewhere", DeadEndpoint())}{Context("here", gateway.Endpoint)}");

        var list = await Run("list", "-a", "--config", config);

        Assert.Equal(0, list.Code);
        Assert.Contains(list.Lines, l => l.StartsWith(app + " "));
    }

    [Fact]
    public async Task ContextOption_ChoosesAContext_AndItsSecondEndpointIsUsed_WhenTheFirstIsDead()
    {
        var app = await RegisterAppAsync();
        var config = Config($"current-context: elsewhere\ncontexts:\n{Context("elsewhere", DeadEndpoint())}{Context("pair", DeadEndpoint(), gateway.Endpoint)}");

        var list = await Run("list", "-a", "--config", config, "--context", "pair");

        Assert.Equal(0, list.Code);
        Assert.Contains(list.Lines, l => l.StartsWith(app + " "));
    }

    [Fact]
    public async Task EndpointOption_WinsOverTheContext_AndMayBeRepeated()
    {
        var app = await RegisterAppAsync();
        var config = Config($"current-context: dead\ncontexts:\n{Context("dead", DeadEndpoint())}");

        var list = await Run("list", "-a", "--config", config, "--endpoint", DeadEndpoint(), "--endpoint", gateway.Endpoint);

        Assert.Equal(0, list.Code);
        Assert.Contains(list.Lines, l => l.StartsWith(app + " "));
    }

    [Fact]
    public async Task FlamesClientFile_WithItsSections_IsUsed_AndAnUnknownKeyIsOneWarningOnStderr()
    {
        var app = await RegisterAppAsync();
        var config = Config($$"""
            current-context: flame
            contexts:
              - name: flame
                cluster:
                  endpoint: {{gateway.Endpoint}}
                cache: {endpoint: "grpc://127.0.0.1:9090", storage: /tmp/cache}
                package: {storage: "file:///var/lib/flame/packages", excludes: ["*.log"]}
                runner: {template: flmrun}
                color: auto
            """);

        var list = await Run("list", "-a", "--config", config);

        Assert.Equal(0, list.Code);
        Assert.Contains(list.Lines, l => l.StartsWith(app + " "));
        Assert.Equal($"flmctl: warning: {config}:9: unknown key 'contexts[0].color' (ignored)", list.Err.TrimEnd());
    }

    [Fact]
    public async Task MalformedYaml_FailsWithOneLineNamingTheFile_AndExitCode2()
    {
        var config = Config("current-context: [x\n");

        AssertOneLineError(await Run("list", "-a", "--config", config), 2, $"{config}:");
    }

    [Fact]
    public async Task UnknownContext_FailsWithOneLine_AndExitCode2()
    {
        var config = Config($"contexts:\n{Context("a", gateway.Endpoint)}");

        AssertOneLineError(await Run("list", "-a", "--config", config, "--context", "b"), 2,
            $"--context: context 'b' is not in {config} (its contexts: a)");
    }

    [Fact]
    public async Task EndpointThatIsNotAnHttpUrl_InTheFile_FailsWithOneLineNamingTheKey_AndExitCode2()
    {
        var config = Config("current-context: a\ncontexts:\n  - name: a\n    cluster:\n      endpoint: grpc://h:1\n");

        AssertOneLineError(await Run("list", "-a", "--config", config), 2,
            $"{config}:5: contexts[0].cluster.endpoint: 'grpc://h:1' is not an address like http://127.0.0.1:8080");
    }

    [Fact]
    public async Task EndpointOptionThatIsNotAnHttpUrl_FailsWithOneLine_AndExitCode2() =>
        AssertOneLineError(await Run("list", "-a", "--endpoint", "ftp://h:1"), 2,
            "--endpoint: 'ftp://h:1' is not an address like http://127.0.0.1:8080");

    [Fact]
    public async Task UnreachableContext_FailsWithOneLine_AndExitCode1()
    {
        var (a, b) = (DeadEndpoint(), DeadEndpoint());
        var config = Config($"current-context: dead\ncontexts:\n{Context("dead", a, b)}");

        AssertOneLineError(await Run("list", "-a", "--config", config), 1, $"cannot reach the Flame endpoint: {a},{b}");
    }

    // ------------------------------------------------------------------ flmctl health

    [Fact]
    public async Task Health_ShowsAServingGatewayAndAnActiveSilo_AndExits0()
    {
        var health = await Run("health", "--endpoint", gateway.Endpoint);

        Assert.Equal((0, ""), (health.Code, health.Err));
        Assert.Matches(@"^GATEWAY\s+HEALTH$", health.Lines[0]);
        Assert.Matches($@"^{gateway.Endpoint}\s+SERVING$", health.Lines[1]);
        Assert.Contains(health.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^CLUSTER\s+SERVICE\s+MEMBERSHIP\s+NODES READY\s+NODES NOT READY\s+EXECUTORS\s+BOUND\s+OPEN SESSIONS$"));
        var silosHeader = Array.FindIndex(health.Lines, l => l.StartsWith("SILO "));
        Assert.Matches(@"^SILO\s+ADDRESS\s+STATUS\s+STARTED\s+ANSWERED$", health.Lines[silosHeader]);
        Assert.Matches(@"^\S+\s+\S+:\d+\s+Active\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+yes$", health.Lines[silosHeader + 1]);
    }

    [Fact]
    public async Task Health_AsJson_GivesEveryGatewayAndSilo()
    {
        var health = await Run("health", "--endpoint", gateway.Endpoint, "-o", "json");

        Assert.Equal(0, health.Code);
        using var doc = JsonDocument.Parse(health.Out);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("healthy").GetBoolean());
        Assert.Equal(gateway.Endpoint, root.GetProperty("gateways")[0].GetProperty("endpoint").GetString());
        Assert.Equal("SERVING", root.GetProperty("gateways")[0].GetProperty("health").GetString());
        var silo = Assert.Single(root.GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());
        Assert.True(silo.GetProperty("isLocal").GetBoolean());
    }

    [Fact]
    public async Task Health_AsYaml_SaysHealthy()
    {
        var health = await Run("health", "--endpoint", gateway.Endpoint, "-o", "yaml");

        Assert.Equal(0, health.Code);
        Assert.Contains("healthy: true", health.Lines);
        Assert.Contains(health.Lines, l => l.Trim() == "status: Active");
    }

    [Fact]
    public async Task Health_WithOneGatewayDown_ShowsItUnreachable_AndExits1()
    {
        var dead = DeadEndpoint();

        var health = await Run("health", "--endpoint", $"{gateway.Endpoint},{dead}");

        Assert.Equal((1, ""), (health.Code, health.Err));
        Assert.Matches($@"^{gateway.Endpoint}\s+SERVING$", health.Lines[1]);
        Assert.Matches($@"^{dead}\s+UNREACHABLE$", health.Lines[2]);
        Assert.Contains(health.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\s+Active\s+"));
    }

    [Fact]
    public async Task Health_WithNoGatewayAnswering_FailsWithOneLine_AndExits1()
    {
        var dead = DeadEndpoint();

        AssertOneLineError(await Run("health", "--endpoint", dead), 1, $"cannot reach the Flame endpoint: no gateway answered: {dead}: ");
    }
}
