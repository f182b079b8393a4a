using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Shims;

namespace Flame.ExecutorManager.Tests;

/// <summary>The node's allow-lists and clean environment, on real files (symbolic links, <c>..</c>) under a temporary folder.</summary>
public sealed class NodeGuardTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("flame-guard-");

    private string Allowed => Path.Combine(_root.FullName, "allowed");

    private string Outside => Path.Combine(_root.FullName, "outside");

    private ExecutorDirectory Executor => ExecutorDirectory.For(Path.Combine(_root.FullName, "work"), "exec-1");

    public NodeGuardTests()
    {
        Directory.CreateDirectory(Path.Combine(Allowed, "bin"));
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Allowed, "bin", "service"), "");
        File.WriteAllText(Path.Combine(Outside, "tool"), "");
        File.WriteAllText(Path.Combine(Allowed, "app.dll"), "");
        File.WriteAllText(Path.Combine(Outside, "evil.dll"), "");
    }

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void AFileUnderAnAllowedDirectory_IsStarted()
    {
        var info = Build(Path.Combine(Allowed, "bin", "service"));

        Assert.Equal(Path.Combine(Allowed, "bin", "service"), info.FileName);
    }

    [Fact]
    public void ACommandOutsideTheAllowList_IsRefused_WithTheNodeAndTheKey()
    {
        var error = Assert.Throws<ServiceStartException>(() => Build("/bin/sh", "-c", "id"));

        Assert.Equal(
            $"command /bin/sh is not allowed on node em-1: {RealPath.Of("/bin/sh")} is not in Flame:ExecutorManager:AllowedCommands",
            error.Message);
    }

    [Fact]
    public void ASymbolicLinkInAnAllowedDirectory_IsJudgedByWhereItLeads()
    {
        var link = Path.Combine(Allowed, "bin", "shell");
        File.CreateSymbolicLink(link, Path.Combine(Outside, "tool"));

        var error = Assert.Throws<ServiceStartException>(() => Build(link));

        Assert.Equal($"command {link} is not allowed on node em-1: {Path.Combine(Outside, "tool")} is not in Flame:ExecutorManager:AllowedCommands", error.Message);
    }

    [Fact]
    public void AnAllowedSymbolicLink_StartsTheFileItWasJudgedBy_NotTheLink()
    {
        // A link that is changed between the check and the start must not run another file.
        var link = Path.Combine(Allowed, "service-link");
        File.CreateSymbolicLink(link, Path.Combine(Allowed, "bin", "service"));
        var dllLink = Path.Combine(Allowed, "app-link.dll");
        File.CreateSymbolicLink(dllLink, Path.Combine(Allowed, "app.dll"));

        Assert.Equal(Path.Combine(Allowed, "bin", "service"), Build(link).FileName);
        Assert.Equal(Path.Combine(Allowed, "app.dll"), Build(FakeDotnetHost(), dllLink).ArgumentList[0]);
    }

    [Fact]
    public void DotDotOutOfAnAllowedDirectory_IsRefused()
    {
        var escape = Path.Combine(Allowed, "bin", "..", "..", "outside", "tool");

        var error = Assert.Throws<ServiceStartException>(() => Build(escape));

        Assert.Contains($"{Path.Combine(Outside, "tool")} is not in Flame:ExecutorManager:AllowedCommands", error.Message);
    }

    [Fact]
    public void AVariableInTheCommand_IsExpandedBeforeTheCheck()
    {
        // The application points its command outside with a variable of its own: the check sees the result.
        var error = Assert.Throws<ServiceStartException>(() => Build("${TOOLS}/tool", environment: [("TOOLS", Outside)]));

        Assert.StartsWith($"command {Outside}/tool is not allowed on node em-1", error.Message);
        Assert.Equal(Path.Combine(Allowed, "bin", "service"), Build("${TOOLS}/service", environment: [("TOOLS", Path.Combine(Allowed, "bin"))]).FileName);
    }

    [Fact]
    public void TheDotnetHost_IsJudgedByTheDllItRuns()
    {
        var dotnet = FakeDotnetHost();

        Assert.Equal(dotnet, Build(dotnet, Path.Combine(Allowed, "app.dll")).FileName);
        var outside = Assert.Throws<ServiceStartException>(() => Build(dotnet, Path.Combine(Outside, "evil.dll")));
        Assert.Equal(
            $"command {dotnet} {Path.Combine(Outside, "evil.dll")} is not allowed on node em-1: {Path.Combine(Outside, "evil.dll")} is not in Flame:ExecutorManager:AllowedCommands",
            outside.Message);
        // Anything but a .dll first (an option such as "exec", a script) is the host's own business: refused.
        Assert.Throws<ServiceStartException>(() => Build(dotnet, "exec", Path.Combine(Allowed, "app.dll")));
    }

    [Fact]
    public void AWorkingDirectoryUnderTheExecutorsDirectory_IsAllowed_AndOneOutsideIsRefused()
    {
        Assert.Equal(Path.Combine(Executor.Root, "data"), Build(Path.Combine(Allowed, "bin", "service"), workingDirectory: "data").WorkingDirectory);

        var error = Assert.Throws<ServiceStartException>(() => Build(Path.Combine(Allowed, "bin", "service"), workingDirectory: "/etc"));
        Assert.Equal(
            "working directory /etc is not allowed on node em-1: /etc is neither under the executor's directory nor in Flame:ExecutorManager:AllowedWorkingDirectories",
            error.Message);
        var escape = Assert.Throws<ServiceStartException>(() => Build(Path.Combine(Allowed, "bin", "service"), workingDirectory: "../../../outside"));
        Assert.Contains($"{Outside} is neither under the executor's directory", escape.Message);
    }

    [Fact]
    public void AWorkingDirectoryUnderAnAllowedOne_IsAllowed_UnlessALinkLeadsOut()
    {
        var guard = Guard(workingDirectories: [Allowed]);
        Assert.Equal(Path.Combine(Allowed, "bin"), Build(Path.Combine(Allowed, "bin", "service"), workingDirectory: Path.Combine(Allowed, "bin"), guard: guard).WorkingDirectory);

        var link = Path.Combine(Allowed, "elsewhere");
        Directory.CreateSymbolicLink(link, Outside);
        Assert.Throws<ServiceStartException>(() => Build(Path.Combine(Allowed, "bin", "service"), workingDirectory: link, guard: guard));
    }

    [Fact]
    public void TheService_InheritsOnlyThePassThroughVariables_TheApplicationsAndFlames()
    {
        var host = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["HOME"] = "/home/flame",
            ["LC_TIME"] = "C.UTF-8",
            ["Flame__Cluster__ConnectionString"] = "Host=db;Password=secret",
            ["FLAME_TOKEN"] = "node-token",
        };
        var guard = new NodeGuard("em-1", [Allowed], [], FlameExecutorManagerOptions.DefaultPassEnvironment, host);

        var info = Build(Path.Combine(Allowed, "bin", "service"), guard: guard,
            environment: [("APP_SETTING", "on"), ("DATA", "${HOME}/data"), ("STOLEN", "${Flame__Cluster__ConnectionString}")]);

        Assert.Equal(
            ["APP_SETTING", "DATA", "FLAME_ENDPOINT", "FLAME_EXECUTOR_ID", "FLAME_INSTANCE_ENDPOINT", "FLAME_SESSION_ID", "HOME", "LC_TIME", "PATH", "STOLEN"],
            info.Environment.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("/home/flame/data", info.Environment["DATA"]);
        // Expanded against what passes through only: the secret cannot be fetched by name.
        Assert.Equal("${Flame__Cluster__ConnectionString}", info.Environment["STOLEN"]);
    }

    [Fact]
    public void ThePassThroughList_IsConfigurable()
    {
        var host = new Dictionary<string, string> { ["PATH"] = "/bin", ["MY_TOOL_HOME"] = "/opt/tool", ["MY_TOOL_KEY"] = "k", ["OTHER"] = "x" };

        var guard = new NodeGuard("em-1", [Allowed], [], ["MY_TOOL_*"], host);

        Assert.Equal(["MY_TOOL_HOME", "MY_TOOL_KEY"], guard.Inherited.Keys.Order(StringComparer.Ordinal));
    }

    private string FakeDotnetHost()
    {
        var directory = Directory.CreateDirectory(Path.Combine(_root.FullName, "dotnet-host"));
        var host = Path.Combine(directory.FullName, "dotnet");
        File.WriteAllText(host, "");
        return host;
    }

    private NodeGuard Guard(string[]? workingDirectories = null) =>
        new("em-1", [Allowed], workingDirectories ?? [], FlameExecutorManagerOptions.DefaultPassEnvironment, new Dictionary<string, string>());

    private System.Diagnostics.ProcessStartInfo Build(string command, params string[] arguments) => Build(command, arguments, null, null, []);

    private System.Diagnostics.ProcessStartInfo Build(
        string command, string[]? arguments = null, string? workingDirectory = null, NodeGuard? guard = null,
        (string Name, string Value)[]? environment = null)
    {
        var spec = new V1.ApplicationSpec { Command = command };
        spec.Arguments.Add(arguments ?? []);
        if (workingDirectory is not null)
            spec.WorkingDirectory = workingDirectory;
        foreach (var (name, value) in environment ?? [])
            spec.Environments.Add(new V1.Environment { Name = name, Value = value });
        return ServiceLaunch.BuildStartInfo(
            new V1.Application { Metadata = new V1.Metadata { Id = "app", Name = "app" }, Spec = spec },
            "s1", "exec-1", Executor, "http://127.0.0.1:8080", guard ?? Guard());
    }
}
