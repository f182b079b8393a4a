using Flame.ExecutorManager.Hosting;
using Flame.Hosting;
using Microsoft.Extensions.Configuration;

namespace Flame.ExecutorManager.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndAsDocumented()
    {
        var options = new FlameExecutorManagerOptions();

        Assert.Empty(options.ValidationErrors());
        Assert.Equal("http://127.0.0.1:8080", options.Endpoint);
        Assert.Equal("/tmp/flame", options.WorkDirectory);
        Assert.Equal(TimeSpan.FromSeconds(2), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ServiceStartTimeout);
        Assert.Equal(TimeSpan.FromHours(1), options.TaskTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ShutdownGrace);
        Assert.Equal(100, options.KeepExecutorDirectories);
        Assert.Equal(Environment.ProcessorCount, options.EffectiveSlots);
        Assert.Equal(System.Net.Dns.GetHostName(), options.EffectiveNodeName);
        Assert.Empty(options.AllowedCommands);
        Assert.True(options.AllowBuiltInApplications);
        Assert.Empty(options.AllowedWorkingDirectories);
        Assert.Equal(
            ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR", "FLAME_HOME", "DOTNET_ROOT", "SSL_CERT_FILE", "SSL_CERT_DIR"],
            options.EffectivePassEnvironment);
    }

    [Fact]
    public void TheAllowListsAndThePassThroughList_AreReadFromConfiguration_AndAConfiguredListReplacesTheDefault()
    {
        var options = Bind(new()
        {
            ["Flame:ExecutorManager:AllowedCommands:0"] = "/opt/services",
            ["Flame:ExecutorManager:AllowedCommands:1"] = "/usr/bin/python3",
            ["Flame:ExecutorManager:AllowedWorkingDirectories:0"] = "/srv/data",
            ["Flame:ExecutorManager:PassEnvironment:0"] = "PATH",
            ["Flame:ExecutorManager:AllowBuiltInApplications"] = "false",
        });

        Assert.Equal(["/opt/services", "/usr/bin/python3"], options.AllowedCommands);
        Assert.Equal(["/srv/data"], options.AllowedWorkingDirectories);
        Assert.Equal(["PATH"], options.EffectivePassEnvironment);
        Assert.False(options.AllowBuiltInApplications);
    }

    [Fact]
    public void Endpoint_TakesACommaSeparatedListOfGateways_InOrder()
    {
        var options = new FlameExecutorManagerOptions { Endpoint = "http://10.0.0.1:8080, http://10.0.0.2:8080" };

        Assert.Empty(options.ValidationErrors());
        Assert.Equal([new Uri("http://10.0.0.1:8080"), new Uri("http://10.0.0.2:8080")], options.Endpoints);
    }

    [Theory]
    [InlineData("Endpoint", "", "configuration key 'Flame:ExecutorManager:Endpoint': is empty; give the gateway's address, e.g. http://127.0.0.1:8080")]
    [InlineData("Endpoint", "127.0.0.1:8080", "configuration key 'Flame:ExecutorManager:Endpoint': '127.0.0.1:8080' is not an address like http://127.0.0.1:8080")]
    [InlineData("Endpoint", "ftp://host:1", "configuration key 'Flame:ExecutorManager:Endpoint': 'ftp://host:1' is not an address like http://127.0.0.1:8080")]
    [InlineData("Endpoint", "http://host:1/flame", "configuration key 'Flame:ExecutorManager:Endpoint': 'http://host:1/flame' has a path; give only http://HOST:PORT")]
    [InlineData("Endpoint", "http://a:1,,http://b:2", "configuration key 'Flame:ExecutorManager:Endpoint': 'http://a:1,,http://b:2' has an empty entry; separate addresses with single commas")]
    [InlineData("Endpoint", "http://a:1,ftp://b:2", "configuration key 'Flame:ExecutorManager:Endpoint': 'ftp://b:2' is not an address like http://127.0.0.1:8080")]
    [InlineData("Endpoint", "http://a:1,https://b:2", "configuration key 'Flame:ExecutorManager:Endpoint': 'http://a:1,https://b:2' mixes http:// and https:// addresses; a channel is either plaintext or TLS")]
    [InlineData("NodeName", "node 1", "configuration key 'Flame:ExecutorManager:NodeName': 'node 1' is not a node name: use letters, digits, '.', '_' and '-', at most 253 characters")]
    [InlineData("Slots", "0", "configuration key 'Flame:ExecutorManager:Slots': must be between 1 and 1024, not 0")]
    [InlineData("Slots", "1025", "configuration key 'Flame:ExecutorManager:Slots': must be between 1 and 1024, not 1025")]
    [InlineData("WorkDirectory", "flame", "configuration key 'Flame:ExecutorManager:WorkDirectory': 'flame' is not an absolute path")]
    [InlineData("HeartbeatInterval", "2", "configuration key 'Flame:ExecutorManager:HeartbeatInterval': must be between 00:00:00.050 and 00:05:00, not 2.00:00:00")]
    [InlineData("HeartbeatInterval", "00:00:00", "configuration key 'Flame:ExecutorManager:HeartbeatInterval': must be between 00:00:00.050 and 00:05:00, not 00:00:00")]
    [InlineData("ServiceStartTimeout", "00:00:00.010", "configuration key 'Flame:ExecutorManager:ServiceStartTimeout': must be between 00:00:00.100 and 01:00:00, not 00:00:00.01")]
    [InlineData("TaskTimeout", "-00:00:01", "configuration key 'Flame:ExecutorManager:TaskTimeout': must be 00:00:00 (no limit) or positive, not -00:00:01")]
    [InlineData("SessionLeaveTimeout", "02:00:00", "configuration key 'Flame:ExecutorManager:SessionLeaveTimeout': must be between 00:00:00 and 01:00:00, not 02:00:00")]
    [InlineData("ShutdownGrace", "00:11:00", "configuration key 'Flame:ExecutorManager:ShutdownGrace': must be between 00:00:00 and 00:10:00, not 00:11:00")]
    [InlineData("KeepExecutorDirectories", "-1", "configuration key 'Flame:ExecutorManager:KeepExecutorDirectories': must be between 0 and 1000000, not -1")]
    [InlineData("AllowedCommands:0", "bin/service", "configuration key 'Flame:ExecutorManager:AllowedCommands': 'bin/service' is not an absolute path")]
    [InlineData("AllowedWorkingDirectories:0", "data", "configuration key 'Flame:ExecutorManager:AllowedWorkingDirectories': 'data' is not an absolute path")]
    [InlineData("PassEnvironment:0", "A*B", "configuration key 'Flame:ExecutorManager:PassEnvironment': 'A*B' is not a variable name (a '*' may end it)")]
    public void FromConfiguration_RejectsABadValue_NamingItsKey(string key, string value, string message)
    {
        var error = Assert.Throws<FlameConfigurationException>(() => Bind(new() { [$"Flame:ExecutorManager:{key}"] = value }));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void FromConfiguration_RejectsAnUnknownKey_NamingIt()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => Bind(new() { ["Flame:ExecutorManager:Slot"] = "3" }));

        Assert.StartsWith("configuration key 'Flame:ExecutorManager:Slot' is unknown; the keys of 'Flame:ExecutorManager' are Endpoint, NodeName, Slots,", error.Message);
    }

    [Fact]
    public void FromConfiguration_RejectsAValueOfTheWrongType_NamingItsKey()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => Bind(new() { ["Flame:ExecutorManager:Slots"] = "many" }));

        Assert.Contains("'Flame:ExecutorManager:Slots'", error.Message);
        Assert.Contains("'many'", error.Message);
    }

    [Fact]
    public void FromConfiguration_BindsEveryKey()
    {
        var options = Bind(new()
        {
            ["Flame:ExecutorManager:Endpoint"] = "http://10.0.0.1:9000",
            ["Flame:ExecutorManager:NodeName"] = "node-1",
            ["Flame:ExecutorManager:Slots"] = "8",
            ["Flame:ExecutorManager:WorkDirectory"] = "/var/lib/flame",
            ["Flame:ExecutorManager:HeartbeatInterval"] = "00:00:00.500",
            ["Flame:ExecutorManager:ServiceStartTimeout"] = "00:01:00",
            ["Flame:ExecutorManager:TaskTimeout"] = "00:10:00",
            ["Flame:ExecutorManager:SessionLeaveTimeout"] = "00:00:03",
            ["Flame:ExecutorManager:ShutdownGrace"] = "00:00:01",
        });

        Assert.Equal("http://10.0.0.1:9000", options.Endpoint);
        Assert.Equal("node-1", options.EffectiveNodeName);
        Assert.Equal(8, options.EffectiveSlots);
        Assert.Equal("/var/lib/flame", options.WorkDirectory);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMinutes(1), options.ServiceStartTimeout);
        Assert.Equal(TimeSpan.FromMinutes(10), options.TaskTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.SessionLeaveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ShutdownGrace);
    }

    [Fact]
    public void ValidationErrors_ListsEveryProblem()
    {
        var options = new FlameExecutorManagerOptions { Slots = 0, WorkDirectory = "", ShutdownGrace = TimeSpan.FromHours(1) };

        Assert.Equal(3, options.ValidationErrors().Count());
    }

    private static FlameExecutorManagerOptions Bind(Dictionary<string, string?> values) =>
        FlameExecutorManagerOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
}
