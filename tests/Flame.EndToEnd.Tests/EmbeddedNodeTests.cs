using System.Text;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>The session manager's embedded node keeps its process's secrets from the services it starts.</summary>
public sealed class EmbeddedNodeTests
{
    [Fact]
    public async Task AServiceOfTheEmbeddedNode_InheritsThePassThroughVariables_ButNotTheSessionManagersSecrets()
    {
        await using var cluster = await FlameCluster.StartAsync(
            "embedded-environment",
            new Dictionary<string, string> { ["Flame:ExecutorManager:AllowedCommands:2"] = "/bin/sh" },
            new Dictionary<string, string?>
            {
                ["Flame__Cluster__ConnectionString"] = "Host=db;Username=flame;Password=do-not-leak",
                ["FLAME_E2E_TOKEN"] = "do-not-leak-either",
            });
        var dump = Path.Combine(cluster.Root, "service.env");
        var name = $"env-{Guid.NewGuid().ToString("N")[..8]}";
        // The service writes its environment, then becomes the test service.
        await cluster.Client.RegisterApplicationAsync(name, new ApplicationSpec
        {
            Command = "/bin/sh",
            Arguments = ["-c", $"env > '{dump}'; exec \"$0\" \"$1\"", Programs.DotnetHost, Programs.PathOf(Programs.TestService)],
            Environments = [new EnvironmentVariable { Name = "APP_SETTING", Value = "${HOME}/on" }],
            DelayRelease = 1,
        });

        var session = await cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = name });
        await cluster.Client.CreateTaskAsync(session.Id, Encoding.UTF8.GetBytes("echo:hi"));
        await cluster.WaitUntilAllTerminalAsync(session.Id, 1);

        var task = (await cluster.Client.CheckTasksAsync(session.Id, 1))[0];
        Assert.True(task.State == TaskState.Succeed, $"the task should succeed, is {task.State}: {Describe(task.Events)}{cluster.Tails()}");
        var variables = File.ReadAllLines(dump).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        Assert.DoesNotContain(variables, v => v.Value.Contains("do-not-leak", StringComparison.Ordinal));
        Assert.DoesNotContain("Flame__Cluster__ConnectionString", variables.Keys);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), variables["PATH"]);
        Assert.Equal(Environment.GetEnvironmentVariable("HOME") + "/on", variables["APP_SETTING"]);
        Assert.Equal(session.Id, variables["FLAME_SESSION_ID"]);
    }
}
