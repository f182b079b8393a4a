using Flame.SessionManager.Hosting;

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
        { "Flame:SessionManager:SiloPort", "0" },
        { "Flame:SessionManager:SiloPort", "70000" },
        { "Flame:SessionManager:OrleansGatewayPort", "port" },
        { "Flame:SessionManager:ClusterId", "bad cluster" },
        { "Flame:Limits:MaxTaskInputBytes", "0" },
        { "Flame:Limits:MaxTaskInputBytes", "-1" },
        { "Flame:Limits:MaxTaskInputBytes", "abc" },
        { "Flame:Limits:MaxCommonDataBytes", "0" },
        { "Flame:Limits:MaxTaskOutputBytes", "1e6" },
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
        // Created, not started: nothing listens.
        await using var app = SessionManagerApp.Create([], new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = endpoint,
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
    public void Create_Fails_FromTheCommandLineToo()
    {
        var error = Assert.Throws<FlameConfigurationException>(() =>
            SessionManagerApp.Create(["--Flame:Limits:MaxCommonDataBytes=zero"]));

        Assert.Contains("Flame:Limits:MaxCommonDataBytes", error.Message);
    }
}
