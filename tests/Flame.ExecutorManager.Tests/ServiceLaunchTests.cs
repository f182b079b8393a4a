using Flame.ExecutorManager.Shims;

namespace Flame.ExecutorManager.Tests;

public sealed class ServiceLaunchTests
{
    private static readonly ExecutorDirectory Directory = ExecutorDirectory.For("/tmp/flame", "exec-1");

    [Fact]
    public void BuildStartInfo_RunsTheCommand_WithEachArgumentSeparately_AndNoShell()
    {
        var info = Build(Spec(command: "/usr/bin/python3", "-m", "my service", "--flag=a b"));

        // The file the node judged, links followed (/usr/bin/python3 is often a link to python3.x).
        Assert.Equal(RealPath.Of("/usr/bin/python3"), info.FileName);
        Assert.Equal(["-m", "my service", "--flag=a b"], info.ArgumentList);
        Assert.Empty(info.Arguments);
        Assert.False(info.UseShellExecute);
        Assert.True(info.RedirectStandardOutput);
        Assert.True(info.RedirectStandardError);
    }

    [Fact]
    public void BuildStartInfo_AddsTheApplicationsEnvironment_ToTheInheritedOne()
    {
        var spec = Spec(command: "/bin/true");
        spec.Environments.Add(new V1.Environment { Name = "MY_SETTING", Value = "42" });
        spec.Environments.Add(new V1.Environment { Name = "EMPTY", Value = "" });

        var info = Build(spec);

        Assert.Equal("42", info.Environment["MY_SETTING"]);
        Assert.Equal("", info.Environment["EMPTY"]);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), info.Environment["PATH"]);
    }

    [Fact]
    public void BuildStartInfo_SetsTheFlameVariables_OverAnythingTheApplicationSets()
    {
        var spec = Spec(command: "/bin/true");
        spec.Environments.Add(new V1.Environment { Name = "FLAME_SESSION_ID", Value = "not-this-one" });

        var info = Build(spec);

        Assert.Equal("/tmp/flame/executors/exec-1/instance.sock", info.Environment["FLAME_INSTANCE_ENDPOINT"]);
        Assert.Equal("http://127.0.0.1:8080", info.Environment["FLAME_ENDPOINT"]);
        Assert.Equal("exec-1", info.Environment["FLAME_EXECUTOR_ID"]);
        Assert.Equal("session-7", info.Environment["FLAME_SESSION_ID"]);
    }

    [Fact]
    public void BuildStartInfo_WorksInTheExecutorDirectory_ByDefault()
    {
        Assert.Equal("/tmp/flame/executors/exec-1", Build(Spec(command: "/bin/true")).WorkingDirectory);
    }

    [Theory]
    [InlineData("/srv/app", "/srv/app")]
    [InlineData("data", "/tmp/flame/executors/exec-1/data")]
    public void BuildStartInfo_WorksInTheApplicationsWorkingDirectory_RelativeToTheExecutorDirectory(string configured, string expected)
    {
        var spec = Spec(command: "/bin/true");
        spec.WorkingDirectory = configured;

        Assert.Equal(expected, Build(spec).WorkingDirectory);
    }

    [Fact]
    public void BuildStartInfo_ResolvesARelativeCommandPath_AgainstTheWorkingDirectory()
    {
        var spec = Spec(command: "bin/service");
        spec.WorkingDirectory = "/srv/app";

        Assert.Equal("/srv/app/bin/service", Build(spec).FileName);
    }

    [Fact]
    public void BuildStartInfo_LooksABareCommandUp_InThePathTheServiceGets()
    {
        var bin = System.IO.Directory.CreateTempSubdirectory("flame-em-path-");
        try
        {
            File.WriteAllText(Path.Combine(bin.FullName, "my-flame-service"), "");
            var spec = Spec(command: "my-flame-service");
            spec.Environments.Add(new V1.Environment { Name = "PATH", Value = $"/nonexistent:{bin.FullName}" });

            Assert.Equal(Path.Combine(bin.FullName, "my-flame-service"), Build(spec).FileName);
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }

    [Fact]
    public void BuildStartInfo_Refuses_AnApplicationWithoutCommand()
    {
        var error = Assert.Throws<ServiceStartException>(() => Build(new V1.ApplicationSpec()));

        Assert.Equal("failed to start service by command <>: application 'pi' has no command", error.Message);
    }

    [Fact]
    public void BuildStartInfo_Refuses_AWasmApplication()
    {
        var spec = Spec(command: "/bin/true");
        spec.Shim = V1.Shim.Wasm;

        var error = Assert.Throws<ServiceStartException>(() => Build(spec));

        Assert.Equal("application 'pi' uses shim Wasm; this executor manager runs Host services only", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("A=B")]
    public void BuildStartInfo_Refuses_AnInvalidVariableName(string name)
    {
        var spec = Spec(command: "/bin/true");
        spec.Environments.Add(new V1.Environment { Name = name, Value = "x" });

        var error = Assert.Throws<ServiceStartException>(() => Build(spec));

        Assert.Equal($"application 'pi' sets an environment variable with an invalid name '{name}'", error.Message);
    }

    private static V1.ApplicationSpec Spec(string command, params string[] arguments)
    {
        var spec = new V1.ApplicationSpec { Command = command };
        spec.Arguments.Add(arguments);
        return spec;
    }

    // Everything allowed, the default pass-through list over this process's environment: the guard is tested below.
    private static readonly NodeGuard AllowAll = new(
        "node-a", ["/"], ["/"], Hosting.FlameExecutorManagerOptions.DefaultPassEnvironment, Environment.GetEnvironmentVariables());

    private static System.Diagnostics.ProcessStartInfo Build(V1.ApplicationSpec spec, NodeGuard? guard = null) =>
        ServiceLaunch.BuildStartInfo(
            new V1.Application { Metadata = new V1.Metadata { Id = "pi", Name = "pi" }, Spec = spec },
            "session-7", "exec-1", Directory, "http://127.0.0.1:8080", guard ?? AllowAll);
}
