using Flame.EndToEnd.Tests.Support;

namespace Flame.EndToEnd.Tests;

/// <summary>Stopping the one-command cluster: SIGTERM to a session manager that runs its own executor manager.</summary>
public sealed class ShutdownTests
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Sigterm_EndsTheBoundExecutorsAndReleasesTheNode_WhileTheGatewayStillServes_ThenExitsWith0()
    {
        // The embedded executor manager's executors (and so the services' call logs) in a folder of the test's.
        var work = Directory.CreateTempSubdirectory("fe2e-sigterm-work-").FullName;
        try
        {
            await StopAsync(work);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task StopAsync(string work)
    {
        await using var cluster = await FlameCluster.StartAsync("sigterm", new Dictionary<string, string>
        {
            ["Flame:ExecutorManager:WorkDirectory"] = work,
        });
        // delay_release far beyond the test: the executor is still bound, its service running, when the stop begins.
        // One executor, so that one service's calls are read.
        var app = await cluster.RegisterTestApplicationAsync("stop", delayRelease: 600);
        var session = await cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 1 });
        await cluster.Client.CreateTasksAsync(session.Id, Enumerable.Range(1, 3).Select(i => $"echo:{i}"));
        await cluster.WaitUntilAllTerminalAsync(session.Id, 3);

        var process = cluster.SessionManager;
        process.Terminate();
        var exitCode = await process.WaitForExitAsync(StopTimeout, "the session manager to stop after SIGTERM");

        Assert.True(exitCode == 0, $"expected exit code 0 after SIGTERM, got {exitCode}{process.Tail(60)}");
        // The embedded executor manager stops before the gateway does: its executor leaves the session (the service
        // is told), and UnregisterExecutor and ReleaseNode reach the gateway instead of a closed port.
        Assert.Equal(["enter", "invoke", "invoke", "invoke", "leave"],
            (app with { ClusterRoot = work }).Calls().Select(c => c.Split(' ')[0]));
        var refused = process.Output.Where(l =>
            l.Contains("ReleaseNode of node", StringComparison.Ordinal)
            || l.Contains("UnregisterExecutor of executor", StringComparison.Ordinal)
            || l.Contains("was refused", StringComparison.Ordinal)
            || l.Contains("failed to stop", StringComparison.Ordinal)).ToList();
        Assert.True(refused.Count == 0, $"expected a clean stop, but:\n  {string.Join("\n  ", refused)}{process.Tail(60)}");
        Assert.Contains(process.Output, l => l.Contains("Node ", StringComparison.Ordinal) && l.EndsWith(" released", StringComparison.Ordinal));
    }
}
