using Flame.Client.Configuration;

namespace Flame.Client.Tests;

/// <summary>The client configuration file and the precedence of its sources, with the environment given explicitly.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flame-client-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string TwoContexts = """
        current-context: local
        contexts:
          - name: local
            cluster:
              endpoint: http://127.0.0.1:9001
          - name: prod
            cluster:
              endpoints: [http://10.0.0.1:8080, "http://10.0.0.2:8080"]
            cache:
              endpoint: grpc://10.0.0.1:9090
        """;

    private string Write(string text, string name = "flame.yaml")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static string[] Endpoints(FlameConnection connection) => [.. connection.Endpoints.Select(u => u.ToString())];

    [Fact]
    public void MissingFile_GivesTheDefaultEndpoint()
    {
        var env = Env((FlameClientConfig.FileVariable, Path.Combine(_dir, "none.yaml")));

        var connection = FlameClientConfig.ResolveConnection(environment: env);

        Assert.Equal(["http://127.0.0.1:8080/"], Endpoints(connection));
        Assert.Equal("default", connection.Source);
    }

    [Fact]
    public void CurrentContext_OfTheFileNamedByFlameConfig_IsUsed()
    {
        var env = Env((FlameClientConfig.FileVariable, Write(TwoContexts)));

        var connection = FlameClientConfig.ResolveConnection(environment: env);

        Assert.Equal(["http://127.0.0.1:9001/"], Endpoints(connection));
        Assert.Equal($"context 'local' of {Path.Combine(_dir, "flame.yaml")}", connection.Source);
    }

    [Fact]
    public void Precedence_IsOptionThenFlameEndpointThenContextThenFlameContextThenCurrentContext()
    {
        var config = FlameClientConfig.Load(Write(TwoContexts));
        var all = Env((FlameClientConfig.EndpointVariable, "http://env-a:1, http://env-b:2"), (FlameClientConfig.ContextVariable, "local"));

        Assert.Equal(["http://opt-a:1/", "http://opt-b:2/", "http://opt-c:3/"],
            Endpoints(config.Resolve(["http://opt-a:1,http://opt-b:2", "opt-c:3"], "prod", all)));
        Assert.Equal(["http://env-a:1/", "http://env-b:2/"], Endpoints(config.Resolve(null, "prod", all)));
        Assert.Equal(["http://10.0.0.1:8080/", "http://10.0.0.2:8080/"],
            Endpoints(config.Resolve(null, "prod", Env((FlameClientConfig.ContextVariable, "local")))));
        Assert.Equal(["http://10.0.0.1:8080/", "http://10.0.0.2:8080/"],
            Endpoints(config.Resolve(null, null, Env((FlameClientConfig.ContextVariable, "prod")))));
        Assert.Equal(["http://127.0.0.1:9001/"], Endpoints(config.Resolve(null, null, Env())));
    }

    [Fact]
    public void ExplicitEndpoints_DoNotReadTheFile()
    {
        var env = Env((FlameClientConfig.FileVariable, Write("current-context: [")), (FlameClientConfig.EndpointVariable, "http://h:1"));

        Assert.Equal(["http://h:1/"], Endpoints(FlameClientConfig.ResolveConnection(environment: env)));
    }

    [Fact]
    public void MalformedYaml_IsReported_WithFileAndLine()
    {
        var path = Write("current-context: local\ncontexts:\n  - name: [local\n");

        var error = Assert.Throws<FlameClientConfigurationException>(() => FlameClientConfig.Load(path));

        Assert.StartsWith($"{path}:", error.Message);
        Assert.Contains("not valid YAML", error.Message);
    }

    [Theory]
    [InlineData("contexts:\n  - name: a\n    cluster:\n      endpoint: ftp://h:1\n", "{0}:4: contexts[0].cluster.endpoint: 'ftp://h:1' is not an address like http://127.0.0.1:8080")]
    [InlineData("contexts:\n  - name: a\n    cluster:\n      endpoints: [http://h:1, 'h:2']\n", "{0}:4: contexts[0].cluster.endpoints[1]: 'h:2' is not an address like http://127.0.0.1:8080")]
    [InlineData("contexts:\n  - name: a\n    cluster:\n      endpoint: http://h:1/flame\n", "{0}:4: contexts[0].cluster.endpoint: 'http://h:1/flame' has a path; give only http://HOST:PORT")]
    [InlineData("contexts:\n  - name: a\n    cluster: {}\n", "{0}:3: contexts[0].cluster.endpoint: give exactly one of endpoint (one address) and endpoints (a list)")]
    [InlineData("contexts:\n  - name: a\n    cluster:\n      endpoints: [http://h:1, https://h:2]\n", "{0}:4: contexts[0].cluster.endpoints: mixes http:// and https:// addresses; a channel is either plaintext or TLS")]
    [InlineData("contexts:\n  - cluster:\n      endpoint: http://h:1\n", "{0}:2: contexts[0].name: is missing")]
    [InlineData("current-context: b\ncontexts:\n  - name: a\n    cluster:\n      endpoint: http://h:1\n", "{0}:1: current-context: names context 'b', which is not in contexts (a)")]
    [InlineData("contexts:\n  - name: a\n    cluster:\n      endpoint: https://h:1\n      tls:\n        ca_file: /no/such/ca.pem\n", "{0}:6: contexts[0].cluster.tls.ca_file: the file '/no/such/ca.pem' does not exist")]
    [InlineData("contexts: local\n", "{0}:1: contexts: must be a list")]
    [InlineData("- a\n", "{0}:1: must be a mapping of keys to values")]
    [InlineData("contexts:\n  - name: a\n    cluster:\n      endpoint: [http://h:1]\n", "{0}:4: contexts[0].cluster.endpoint: must be a single value")]
    [InlineData("contexts:\n  - name: a\n    cluster:\n      endpoint: http://h:1\n---\ncontexts: []\n", "{0}:6: the file must hold one YAML document")]
    public void BadValues_AreReported_WithFileLineAndKey(string yaml, string message)
    {
        var path = Write(yaml);

        var error = Assert.Throws<FlameClientConfigurationException>(() => FlameClientConfig.Load(path));

        Assert.Equal(string.Format(message, path), error.Message);
    }

    [Fact]
    public void FlamesOwnFile_WithCachePackageAndRunnerSections_IsRead_WithoutWarnings()
    {
        // flame-head-behaviour.md §7.1: the file Flame's tools and flamepy write.
        var path = Write("""
            current-context: flame
            contexts:
              - name: flame
                cluster: {endpoint: "http://flame-session-manager:8080"}
                cache: {endpoint: "grpcs://flame-object-cache:9090", tls: {ca_file: /etc/flame/certs/ca.crt}, storage: /path}
                package: {storage: "file:///var/lib/flame/packages", excludes: ["*.log"]}
                runner: {template: flmrun}
            """);

        var config = FlameClientConfig.Load(path);

        Assert.Empty(config.Warnings);
        Assert.Equal(["http://flame-session-manager:8080/"], Endpoints(config.Resolve(null, null, Env())));
    }

    [Fact]
    public void UnknownKeys_AreIgnored_WithOneWarningEach_NamingFileLineAndKey()
    {
        var path = Write("current-context: a\nkind: Config\ncontexts:\n  - name: a\n    cluster:\n      endpoint: http://h:1\n      tls:\n        ca-file: /ca.pem\n    telemetry: {on: true}\n");

        var config = FlameClientConfig.Load(path);
        var warned = new List<string>();
        var connection = FlameClientConfig.ResolveConnection(environment: Env((FlameClientConfig.FileVariable, path)), warn: warned.Add);

        Assert.Equal(["http://h:1/"], Endpoints(connection));
        string[] expected =
        [
            $"{path}:2: unknown key 'kind' (ignored)",
            $"{path}:8: unknown key 'contexts[0].cluster.tls.ca-file' (ignored); did you mean 'ca_file'?",
            $"{path}:9: unknown key 'contexts[0].telemetry' (ignored)",
        ];
        Assert.Equal(expected, config.Warnings);
        Assert.Equal(expected, warned);
    }

    [Fact]
    public void UnknownContext_IsReported_WithTheFileAndItsContexts()
    {
        var path = Write(TwoContexts);

        var error = Assert.Throws<FlameClientConfigurationException>(() => FlameClientConfig.Load(path).Resolve(null, "staging", Env()));

        Assert.Equal($"--context: context 'staging' is not in {path} (its contexts: local, prod)", error.Message);
    }

    [Fact]
    public void UnknownContextFromTheEnvironment_NamesTheVariable_AndTheMissingFile()
    {
        var path = Path.Combine(_dir, "absent.yaml");

        var error = Assert.Throws<FlameClientConfigurationException>(() => FlameClientConfig.ResolveConnection(
            environment: Env((FlameClientConfig.FileVariable, path), (FlameClientConfig.ContextVariable, "prod"))));

        Assert.Equal($"FLAME_CONTEXT: context 'prod' is unknown: there is no client configuration file {path}", error.Message);
    }

    [Theory]
    [InlineData("ftp://h:1", "FLAME_ENDPOINT: 'ftp://h:1' is not an address like http://127.0.0.1:8080")]
    [InlineData("http://h:1,,http://h:2", "FLAME_ENDPOINT: 'http://h:1,,http://h:2' has an empty entry; separate addresses with single commas")]
    public void BadFlameEndpoint_IsReported_NamingTheVariable(string value, string message)
    {
        var error = Assert.Throws<FlameClientConfigurationException>(() =>
            FlameClientConfig.ResolveConnection(environment: Env((FlameClientConfig.EndpointVariable, value))));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void TlsCaFile_OfAnHttpContext_IsIgnoredWithAWarning_AsFlameIgnoresIt()
    {
        var path = Write("current-context: s\ncontexts:\n  - name: s\n    cluster:\n      endpoint: http://flame:8080\n      tls: {ca_file: /etc/flame/certs/ca.crt}\n");

        var config = FlameClientConfig.Load(path);

        Assert.Null(config.Resolve(null, null, Env()).CaFile);
        Assert.Equal([$"{path}:6: contexts[0].cluster.tls.ca_file: ignored: the endpoints are http://; use https:// addresses for TLS"], config.Warnings);
    }

    [Fact]
    public void TlsCaFile_IsKept_ForHttpsContexts()
    {
        var ca = Write("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "ca.pem");
        var config = FlameClientConfig.Load(Write($"current-context: s\ncontexts:\n  - name: s\n    cluster:\n      endpoint: https://gw.example:8443\n      tls:\n        ca_file: {ca}\n"));

        var connection = config.Resolve(null, null, Env());

        Assert.Equal(ca, connection.CaFile);
        Assert.Equal(["https://gw.example:8443/"], Endpoints(connection));
    }
}
