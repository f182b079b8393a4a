using Flame.SessionManager.Hosting;

namespace Flame.SessionManager.Tests;

/// <summary>flame-session-manager's command line: its switch, configuration keys passed through, help, refusals.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("--Flame:Storage:Provider=Memory")]
    [InlineData("--Flame:Storage:Provider Memory")]
    [InlineData("-- --Flame:Storage:Provider=Memory")]
    public void ConfigurationKeys_PassThroughToConfiguration(string args)
    {
        var commandLine = SessionManagerCommandLine.Parse(["--init-db", .. args.Split(' ')]);

        Assert.Equal("Memory", commandLine.Overrides["Flame:Storage:Provider"]);
        Assert.Equal("true", commandLine.Overrides["Flame:Cluster:InitDatabase"]);
        Assert.Null(commandLine.ConfigFile);
    }

    [Fact]
    public void AValueWithEqualsSigns_IsKeptWhole()
    {
        var commandLine = SessionManagerCommandLine.Parse(["--Flame:Cluster:ConnectionString=Host=db;Port=5432;Username=flame"]);

        Assert.Equal("Host=db;Port=5432;Username=flame", commandLine.Overrides["Flame:Cluster:ConnectionString"]);
    }

    [Theory]
    [InlineData("--init", "unknown switch '--init'")]
    [InlineData("--config", "Required argument missing for option: '--config'.")]
    [InlineData("serve", "unknown argument 'serve'")]
    public void Create_RefusesAWrongSwitch_InOneLine(string arg, string expected)
    {
        var error = Assert.Throws<FlameConfigurationException>(() => SessionManagerApp.Create([arg]));

        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public async Task Help_ExitsZero_AndListsEverySwitch()
    {
        var (code, stdout, stderr) = await ServerProcess.RunToExitAsync("flame-session-manager.dll", ["--help"]);

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        foreach (var name in new[] { "--init-db", "--config", "--help", "--version", "--Section:Key=VALUE", "Flame:Cluster:InitDatabase" })
            Assert.Contains(name, stdout);
    }

    [Fact]
    public async Task AWrongSwitch_IsOneLine_AndExitCode2()
    {
        var (code, _, stderr) = await ServerProcess.RunToExitAsync("flame-session-manager.dll", ["--init-database"]);

        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("flame-session-manager: unknown switch '--init-database'; known switches: --init-db, --config, --help, --version", line);
    }
}
