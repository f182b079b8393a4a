using Flame.ExecutorManager.Hosting;
using Flame.Hosting;

namespace Flame.ExecutorManager.Tests;

public sealed class CommandLineTests
{
    private const string Known = "known switches: --endpoint, --slots, --node, --work-dir, --ca-file, --token-file, --config, --help, --version, "
                                 + "or a configuration key as --Section:Key=VALUE";

    private static readonly string ExecutorManagerPath = typeof(CommandLineTests).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "ExecutorManagerPath").Value!;

    [Fact]
    public void Parse_MapsEachSwitchOntoItsConfigurationKey()
    {
        var commandLine = ExecutorManagerCommandLine.Parse(
            ["--endpoint", "http://127.0.0.1:9090", "--slots", "4", "--node", "n1", "--work-dir=/var/flame"]);

        Assert.Null(commandLine.ConfigFile);
        Assert.Equal(new Dictionary<string, string?>
        {
            ["Flame:ExecutorManager:Endpoint"] = "http://127.0.0.1:9090",
            ["Flame:ExecutorManager:Slots"] = "4",
            ["Flame:ExecutorManager:NodeName"] = "n1",
            ["Flame:ExecutorManager:WorkDirectory"] = "/var/flame",
        }, commandLine.Overrides);
    }

    [Fact]
    public void Parse_MapsTheCaAndTokenFiles_AsAbsolutePaths()
    {
        var commandLine = ExecutorManagerCommandLine.Parse(["--ca-file", "ca.pem", "--token-file=/etc/flame/node.token"]);

        Assert.Equal(Path.GetFullPath("ca.pem"), commandLine.Overrides["Flame:ExecutorManager:CaFile"]);
        Assert.Equal("/etc/flame/node.token", commandLine.Overrides["Flame:ExecutorManager:TokenFile"]);
    }

    [Theory]
    [InlineData("--Flame:ExecutorManager:TaskTimeout=00:05:00")]
    [InlineData("--Flame:ExecutorManager:TaskTimeout 00:05:00")]
    [InlineData("-- --Flame:ExecutorManager:TaskTimeout=00:05:00")]
    public void Parse_PassesAConfigurationKeyThrough(string args)
    {
        var commandLine = ExecutorManagerCommandLine.Parse(["--slots", "2", .. args.Split(' ')]);

        Assert.Equal("00:05:00", commandLine.Overrides["Flame:ExecutorManager:TaskTimeout"]);
        Assert.Equal("2", commandLine.Overrides["Flame:ExecutorManager:Slots"]);
    }

    [Fact]
    public void Create_RefusesAnEmptyTokenFile_NamingTheKey()
    {
        var token = Path.GetTempFileName();
        try
        {
            var error = Assert.Throws<FlameConfigurationException>(() => ExecutorManagerApp.Create(
                ["--token-file", token, "--work-dir", Path.Combine(Path.GetTempPath(), "flame-em-token-test")]));

            Assert.Equal($"Flame:ExecutorManager:TokenFile: the token file '{token}' is empty", error.Message);
        }
        finally
        {
            File.Delete(token);
        }
    }

    [Fact]
    public void Parse_MakesARelativeWorkDirectoryAbsolute()
    {
        var commandLine = ExecutorManagerCommandLine.Parse(["--work-dir", "flame-work"]);

        Assert.Equal(Path.GetFullPath("flame-work"), commandLine.Overrides["Flame:ExecutorManager:WorkDirectory"]);
    }

    [Fact]
    public void Parse_TakesTheConfigFile_AsAnAbsolutePath()
    {
        Assert.Equal(Path.GetFullPath("em.yaml"), ExecutorManagerCommandLine.Parse(["--config", "em.yaml"]).ConfigFile);
    }

    [Fact]
    public void Create_RefusesAConfigFileThatDoesNotExist()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => ExecutorManagerApp.Create(["--config", "/nonexistent/flame.json"]));

        Assert.Equal("configuration file '/nonexistent/flame.json' does not exist", error.Message);
    }

    [Theory]
    [InlineData(new[] { "--slot", "2" }, $"unknown switch '--slot'; {Known}")]
    [InlineData(new[] { "serve" }, $"unknown argument 'serve'; {Known}")]
    [InlineData(new[] { "--endpoint" }, "Required argument missing for option: '--endpoint'.")]
    [InlineData(new[] { "--node", "--slots", "2" }, "switch '--node' needs a value")]
    [InlineData(new[] { "--node=" }, "Required argument missing for option: '--node'.")]
    [InlineData(new[] { "--node", " " }, "switch '--node' needs a value")]
    [InlineData(new[] { "--slots", "two" }, "switch '--slots': 'two' is not a whole number")]
    [InlineData(new[] { "--Flame:ExecutorManager:Slots" }, "configuration key 'Flame:ExecutorManager:Slots' needs a value: --Flame:ExecutorManager:Slots=VALUE")]
    public void Parse_RejectsBadInput_InOneReadableLine(string[] args, string message)
    {
        var error = Assert.Throws<FlameConfigurationException>(() => ExecutorManagerCommandLine.Parse(args));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Create_LetsSwitchesWinOverTheConfigFile()
    {
        var directory = Directory.CreateTempSubdirectory("flame-em-test-");
        try
        {
            var file = Path.Combine(directory.FullName, "em.json");
            File.WriteAllText(file, """{ "Flame": { "ExecutorManager": { "Slots": 3, "NodeName": "from-file" } } }""");

            using var host = ExecutorManagerApp.Create(["--config", file, "--slots", "5", "--work-dir", directory.FullName]);
            var registry = (Executors.ExecutorRegistry)host.Services.GetService(typeof(Executors.ExecutorRegistry))!;
            var node = (Nodes.NodeDescription)host.Services.GetService(typeof(Nodes.NodeDescription))!;

            Assert.Equal(5, registry.Slots);
            Assert.Equal("from-file", node.Name);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Help_ExitsZero_AndListsEverySwitch()
    {
        var (code, stdout, stderr) = await ServerProcess.RunToExitAsync(ExecutorManagerPath, ["--help"]);

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        foreach (var name in new[] { "--endpoint", "--slots", "--node", "--work-dir", "--ca-file", "--token-file", "--config", "--help", "--version", "--Section:Key=VALUE" })
            Assert.Contains(name, stdout);
        Assert.Contains("Flame:ExecutorManager:Slots", stdout);
    }

    [Fact]
    public async Task Version_ExitsZero_AndPrintsOneLine()
    {
        var (code, stdout, _) = await ServerProcess.RunToExitAsync(ExecutorManagerPath, ["--version"]);

        Assert.Equal(0, code);
        Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("--slot", "unknown switch '--slot'")]
    [InlineData("--Flame:ExecutorManager:Slot=3", "configuration key 'Flame:ExecutorManager:Slot' is unknown")]
    public async Task AWrongSwitchOrKey_IsOneLine_AndExitCode2(string arg, string expected)
    {
        var (code, _, stderr) = await ServerProcess.RunToExitAsync(ExecutorManagerPath, [arg]);

        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"flame-executor-manager: {expected}", line);
    }
}
