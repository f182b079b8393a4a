using Flame.SessionManager.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Flame.SessionManager.Tests;

/// <summary>
/// A session manager refuses configuration it cannot use before it starts anything, naming the key.
/// No cluster is needed: these run beside the gateway collection.
/// </summary>
public sealed class ConfigurationTests
{
    public static TheoryData<string, string> BadValues => new()
    {
        { "Flame:SessionManager:Endpoint", "ftp://x" },
        { "Flame:SessionManager:Endpoint", "http://not-an-ip:80" },
        { "Flame:SessionManager:Endpoint", "http://127.0.0.1:8080/flame" },
        { "Flame:SessionManager:Endpoint", "127.0.0.1:8080" },
        { "Flame:SessionManager:Endpoint", "" },
        { "Flame:SessionManager:BackendEndpoint", "ftp://x" },
        { "Flame:SessionManager:BackendEndpoint", "http://127.0.0.1" },
        { "Flame:SessionManager:BackendEndpoint", "off" },
        { "Flame:SessionManager:SiloPort", "0" },
        { "Flame:SessionManager:SiloPort", "70000" },
        { "Flame:SessionManager:OrleansGatewayPort", "port" },
        { "Flame:SessionManager:ClusterId", "bad cluster" },
        { "Flame:Limits:MaxTaskInputBytes", "0" },
        { "Flame:Limits:MaxTaskInputBytes", "-1" },
        { "Flame:Limits:MaxTaskInputBytes", "abc" },
        { "Flame:Limits:MaxCommonDataBytes", "0" },
        { "Flame:Limits:MaxTaskOutputBytes", "1e6" },
        { "Flame:Limits:MaxPendingTasksPerSession", "0" },
        { "Flame:Limits:MaxTasksPerCreateTasks", "0" },
        { "Flame:Limits:MaxWatchStreamsPerConnection", "10001" },
        { "Flame:Limits:MaxApplicationLabelBytes", "0" },
        { "Flame:Execution:DefaultResReq", "cpu=500m" },
        { "Flame:Execution:DefaultResReq", "cpu=1,disk=2g" },
        { "Flame:Execution:DefaultResReq", "cpu=1," },
        { "Flame:Execution:DefaultResReq", "" },
        { "Flame:Execution:MaxBindingFailures", "0" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Create_Fails_NamingTheKey_WhenAValueCannotBeUsed(string key, string value)
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = "http://127.0.0.1:0",
            [key] = value,
        }));

        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Create_Fails_NamingTheKey_WhenTheBackendEndpointIsOnTheFrontendsPort()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = "http://127.0.0.1:8080",
            ["Flame:SessionManager:BackendEndpoint"] = "http://0.0.0.0:8080",
        }));

        Assert.Contains("Flame:SessionManager:BackendEndpoint", error.Message);
        Assert.Contains("serves the Backend already", error.Message);
    }

    [Fact]
    public void Create_Fails_WhenTheBackendPortListensBeyondLoopback_BehindALoopbackFrontend()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = "http://127.0.0.1:8080",
            ["Flame:SessionManager:BackendEndpoint"] = "http://0.0.0.0:8081",
        }));

        // The anonymous default is None once either port is beyond loopback, so only TLS is missing.
        Assert.Equal("the Backend port listens on http://0.0.0.0:8081 beyond loopback (Flame:SessionManager:BackendEndpoint) without TLS "
                     + "(an https:// endpoint with Flame:Security:Tls:CertificateFile and KeyFile); set them, or Flame:Security:AllowInsecure=true to run insecure anyway",
            error.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8081")]
    [InlineData("http://0.0.0.0:9000", "http://0.0.0.0:9001")]
    [InlineData("http://localhost:8080", "http://localhost:8081")]
    public async Task TheBackend_ListensOnTheFrontendsPortPlusOne_ByDefault(string endpoint, string backend)
    {
        // Created, not started: nothing listens. Beyond loopback without TLS only with the explicit opt-out.
        await using var app = SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = endpoint,
            ["Flame:Security:AllowInsecure"] = "true",
        });

        var port = app.Services.GetRequiredService<BackendPort>().Endpoint;
        Assert.Equal(backend, $"http://{(port.Localhost ? "localhost" : port.Address)}:{port.Port}");
    }

    [Theory]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://localhost")]
    [InlineData("http://[::1]")]
    [InlineData("http://[::80]")]
    public void Create_Fails_NamingTheKey_WhenTheEndpointHasNoPort(string endpoint)
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = endpoint,
        }));

        Assert.Contains("Flame:SessionManager:Endpoint", error.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://localhost:8080")]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://[::1]:8080")]
    [InlineData("http://10.1.2.3:80")]
    public async Task Create_Accepts_TheDocumentedEndpointForms(string endpoint)
    {
        // Created, not started: nothing listens. Beyond loopback, plaintext needs the opt-out (TlsTests shows the refusal).
        await using var app = SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = endpoint,
            ["Flame:Security:AllowInsecure"] = "true",
        });

        Assert.NotNull(app);
    }

    [Fact]
    public void Create_Fails_NamingTheKey_WhenAKeyIsUnknown()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:Limits:MaxTaskInputByte"] = "1024", // a typo must not be ignored silently
        }));

        Assert.Contains("Flame:Limits", error.Message);
        Assert.Contains("MaxTaskInputByte", error.Message);
    }

    [Fact]
    public async Task TheOptions_AreBoundFromConfiguration_AndTheStoreOptionsAreTheStoreInUse()
    {
        // Created, not started: nothing listens and the store is not opened.
        await using var app = SessionManagerApp.Create(["--Flame:Limits:MaxTaskInputBytes=1000"], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = "http://127.0.0.1:0",
            ["Flame:Cluster:ProbeTimeoutSeconds"] = "7",
        });

        Assert.Equal(1000, app.Services.GetRequiredService<IOptionsMonitor<Grains.Hosting.FlameLimitsOptions>>().CurrentValue.MaxTaskInputBytes);
        Assert.Equal(7, app.Services.GetRequiredService<IOptions<Options.FlameClusterOptions>>().Value.ProbeTimeoutSeconds);
        var store = app.Services.GetRequiredService<IOptions<Options.FlameStorageOptions>>().Value;
        Assert.Equal(Options.StorageProvider.Sqlite, store.Provider);
        Assert.Equal(Path.GetFullPath(Options.FlameStorageOptions.DefaultDataDirectory), store.DataDirectory);
    }

    [Fact]
    public void Create_Fails_FromTheCommandLineToo()
    {
        var error = Assert.Throws<FlameConfigurationException>(() =>
            SessionManagerApp.Create(["--Flame:Limits:MaxCommonDataBytes=zero"]));

        Assert.Contains("Flame:Limits:MaxCommonDataBytes", error.Message);
    }

    public static TheoryData<string, string, string> BadClusterSettings => new()
    {
        { "Flame:Cluster:Provider", "Etcd", "Flame:Cluster" },
        { "Flame:Cluster:Provider", "Postgres", "Flame:Cluster:ConnectionString" },
        { "Flame:Cluster:InitDatabase", "true", "Flame:Cluster:InitDatabase" },
        { "Flame:Cluster:AdvertisedAddress", "my-host", "Flame:Cluster:AdvertisedAddress" },
        { "Flame:Cluster:ProbeTimeoutSeconds", "0", "Flame:Cluster:ProbeTimeoutSeconds" },
        { "Flame:Clustr:Provider", "Postgres", "Flame:Clustr" },
        { "Flame:SessionManager:Name", "two words", "Flame:SessionManager:Name" },
        { "Flame:Scheduling:MinBoundTimeSeconds", "-1", "Flame:Scheduling:MinBoundTimeSeconds" },
        { "Flame:Scheduling:Preempt", "sometimes", "Flame:Scheduling" },
        { "Flame:Storage:Provider", "Postgres", "Flame:Storage:Provider" },
        { "Flame:Storage:Provider", "Cassandra", "Flame:Storage" },
        { "Flame:Security:Tls:CertFile", "x.pem", "configuration key 'Flame:Security:Tls:CertFile' is unknown; the keys of 'Flame:Security:Tls' are CertificateFile, KeyFile, CaFile" },
        { "Flame:ExecutorManager:Slot", "3", "configuration key 'Flame:ExecutorManager:Slot' is unknown; the keys of 'Flame:ExecutorManager' are Endpoint, NodeName, Slots," },
        { "Flame:ExecutorManager:Token", "secret", "configuration key 'Flame:ExecutorManager:Token' is unknown" },
    };

    [Theory]
    [MemberData(nameof(BadClusterSettings))]
    public void Create_Fails_NamingTheKey_WhenTheClusterCannotBeConfigured(string key, string value, string named)
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = "http://127.0.0.1:0",
            [key] = value,
        }));

        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Create_Fails_WhenTheConnectionStringIsNotNpgsql()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:Cluster:Provider"] = "Postgres",
            ["Flame:Cluster:ConnectionString"] = "postgresql://flame@db/flame",
        }));

        Assert.Contains("Flame:Cluster:ConnectionString", error.Message);
    }

    [Fact]
    public async Task ClusterFile_InYaml_SetsKeys_AndTheCommandLineWinsOverIt()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("flame-config-").FullName, "cluster.yaml");
        await File.WriteAllTextAsync(file, """
            # The cluster file: the same keys as appsettings.json.
            Flame:
              SessionManager:
                Name: from-file
                Endpoint: http://127.0.0.1:1
              Limits:
                MaxTaskInputBytes: 1000
            """);

        await using var app = SessionManagerApp.Create(["--config", file, "--Flame:SessionManager:Endpoint=http://127.0.0.1:2"]);

        var configuration = app.Services.GetRequiredService<IConfiguration>();
        Assert.Equal("from-file", configuration["Flame:SessionManager:Name"]);
        Assert.Equal("1000", configuration["Flame:Limits:MaxTaskInputBytes"]);
        Assert.Equal("http://127.0.0.1:2", configuration["Flame:SessionManager:Endpoint"]);
    }

    public static TheoryData<string, string, string> BadClusterFiles => new()
    {
        { "bad.yaml", "Flame:\n  SessionManager: [unclosed\n", "': line " },
        { "bad.yaml", "- a list\n- at the top\n", "must be a mapping" },
        { "dup.yaml", "Flame:\n  Limits:\n    MaxTaskInputBytes: 1\n    MaxTaskInputBytes: 2\n", "MaxTaskInputBytes" },
        { "bad.json", "{ \"Flame\": ", "bad.json" },
        { "cluster.toml", "a = 1", "unknown format '.toml'" },
        { "typo.yaml", "Flame:\n  Limits:\n    MaxTaskInputByte: 1\n", "MaxTaskInputByte" },
    };

    [Theory]
    [MemberData(nameof(BadClusterFiles))]
    public async Task ClusterFile_ThatCannotBeUsed_IsRefusedInOneLine(string name, string text, string mention)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("flame-config-").FullName, name);
        await File.WriteAllTextAsync(file, text);

        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create(["--config", file]));

        Assert.Contains(mention, error.Message);
        Assert.DoesNotContain('\n', error.Message.TrimEnd());
    }

    [Fact]
    public void ClusterFile_ThatDoesNotExist_IsRefused()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create(["--config", "/nonexistent/flame.yaml"]));

        Assert.Contains("/nonexistent/flame.yaml", error.Message);
        Assert.Contains("does not exist", error.Message);
    }
}
