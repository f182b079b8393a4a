using Flame.ExecutorManager.Hosting;

namespace Flame.ExecutorManager.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Parse_MapsEachSwitchOntoItsConfigurationKey()
    {
        var commandLine = ExecutorManagerCommandLine.Parse(
            ["--endpoint", "http://127.0.0.1:9090", "--slots", "4", "--node", "n1", "--work-dir=/var/flame"]);

        Assert.False(commandLine.ShowHelp);
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

    [Fact]
    public void Create_RefusesAnEmptyTokenFile_NamingTheKey()
    {
        var token = Path.GetTempFileName();
        try
        {
            var error = Assert.Throws<ExecutorManagerConfigurationException>(() => ExecutorManagerApp.Create(
                ExecutorManagerCommandLine.Parse(["--token-file", token, "--work-dir", Path.Combine(Path.GetTempPath(), "flame-em-token-test")])));

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
    public void Parse_TakesAnExistingConfigFile()
    {
        var file = Path.GetTempFileName();
        try
        {
            Assert.Equal(file, ExecutorManagerCommandLine.Parse(["--config", file]).ConfigFile);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Parse_RecognisesHelp(string help)
    {
        Assert.True(ExecutorManagerCommandLine.Parse(["--slots", "2", help]).ShowHelp);
    }

    [Theory]
    [InlineData(new[] { "--slot", "2" }, "unknown switch '--slot'; known switches: --endpoint, --slots, --node, --work-dir, --ca-file, --token-file, --config, --help")]
    [InlineData(new[] { "serve" }, "unknown argument 'serve'; known switches: --endpoint, --slots, --node, --work-dir, --ca-file, --token-file, --config, --help")]
    [InlineData(new[] { "--endpoint" }, "switch '--endpoint' needs a value")]
    [InlineData(new[] { "--node", "--slots", "2" }, "switch '--node' needs a value")]
    [InlineData(new[] { "--node=" }, "switch '--node' needs a value")]
    [InlineData(new[] { "--slots", "two" }, "switch '--slots': 'two' is not a whole number")]
    [InlineData(new[] { "--config", "/nonexistent/flame.json" }, "switch '--config': file '/nonexistent/flame.json' does not exist")]
    public void Parse_RejectsBadInput_InOneReadableLine(string[] args, string message)
    {
        var error = Assert.Throws<ExecutorManagerConfigurationException>(() => ExecutorManagerCommandLine.Parse(args));

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
            var commandLine = ExecutorManagerCommandLine.Parse(["--config", file, "--slots", "5", "--work-dir", directory.FullName]);

            using var host = ExecutorManagerApp.Create(commandLine);
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
}
