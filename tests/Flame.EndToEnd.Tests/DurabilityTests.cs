using Flame.Client;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// The one-command default (silo, gateway, embedded executor manager, SQLite in a data directory) killed with SIGKILL
/// in the middle of a session and started again on the same data: every task accepted before the kill ends in exactly
/// one terminal state with its own output, and results seen before the kill are still there.
/// </summary>
public sealed class EmbeddedRestartTests : IAsyncLifetime
{
    private const int Tasks = 400;
    private readonly string _root = Directory.CreateTempSubdirectory("flame-e2e-restart-").FullName;
    private readonly int _gatewayPort = FreePorts.Next();
    private readonly int _siloPort = FreePorts.Next();
    private readonly int _orleansGatewayPort = FreePorts.Next();
    private ChildProcess? _process;
    private int _starts;

    private string Endpoint => $"http://127.0.0.1:{_gatewayPort}";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _process?.Kill();
        _process?.Dispose();
        if (Environment.GetEnvironmentVariable("FLAME_E2E_KEEP") != "1")
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // A killed service may still hold a file for a moment; the folder is temporary anyway.
            }
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task KilledAndRestarted_TheSessionFinishes_EachTaskOnceWithItsOutput()
    {
        await StartAsync();
        await using (var client = new GrpcFlameClient(Endpoint))
        {
            await client.RegisterApplicationAsync("restart-app", new ApplicationSpec
            {
                Command = Programs.DotnetHost,
                Arguments = [Programs.PathOf(Programs.TestService)],
                DelayRelease = 1,
            });
            var session = await client.CreateSessionAsync("restart-session", new SessionSpec { Application = "restart-app" });
            var first = await client.CreateTasksAsync(session.Id, Enumerable.Range(1, Tasks).Select(i => Utf8($"slowecho:5:out-{i}")).ToList());
            Assert.Equal(1, first);

            // Kill in the middle: some results seen, most tasks not run yet.
            await Wait.UntilAsync(
                async () => (await client.GetSessionAsync(session.Id)).Status.Succeed >= 20,
                "20 tasks to succeed before the kill", TasksTimeout, context: () => _process!.Tail());
        }
        var seen = await SucceededAsync();
        Assert.InRange(seen.Count, 20, Tasks - 1);
        _process!.Kill();

        await StartAsync();
        await using (var client = new GrpcFlameClient(Endpoint))
        {
            SessionInfo? last = null;
            await Wait.UntilAsync(
                async () =>
                {
                    last = await client.GetSessionAsync("restart-session");
                    return last.Status.Succeed == Tasks;
                },
                $"all {Tasks} tasks to succeed after the restart", TasksTimeout,
                context: () => $"{Describe(last)}\n{_process!.Tail()}");

            var tasks = await client.CheckTasksAsync("restart-session", Tasks);
            Assert.All(tasks, t => Assert.Equal($"out-{t.Id}", Text(t.Output)));
            // What a client saw before the kill is what it sees after it.
            var after = tasks.ToDictionary(t => t.Id);
            foreach (var (id, output) in seen)
                Assert.Equal(output, Text(after[id].Output));
            Assert.Contains(last!.Status.Events, e => e.Code == SessionEventCodes.Restored);
        }
    }

    [Fact]
    public async Task ASecondSessionManager_OnTheSameDataDirectory_IsRefusedInOneLine()
    {
        await StartAsync();
        using var second = ChildProcess.StartProgram("second", Programs.SessionManager, Arguments(FreePorts.Next(), FreePorts.Next(), FreePorts.Next()));

        var exit = await second.WaitForExitAsync(TimeSpan.FromSeconds(60), "the second session manager to give up");

        Assert.Equal(1, exit);
        var line = Assert.Single(second.StandardError);
        Assert.Contains("is in use by another session manager", line);
    }

    private async Task<Dictionary<long, string>> SucceededAsync()
    {
        await using var client = new GrpcFlameClient(Endpoint);
        var seen = new Dictionary<long, string>();
        await foreach (var task in client.ListTasksAsync("restart-session"))
            if (task.State == TaskState.Succeed)
                seen[task.Id] = Text(task.Output);
        return seen;
    }

    private List<string> Arguments(int gatewayPort, int siloPort, int orleansGatewayPort) =>
    [
        $"--Flame:SessionManager:Endpoint=http://127.0.0.1:{gatewayPort}",
        $"--Flame:SessionManager:SiloPort={siloPort}",
        $"--Flame:SessionManager:OrleansGatewayPort={orleansGatewayPort}",
        "--Flame:SessionManager:RegisterBuiltInApplications=false",
        $"--Flame:Storage:DataDirectory={Path.Combine(_root, "data")}",
        "--Flame:ExecutorManager:Slots=2",
        $"--Flame:ExecutorManager:WorkDirectory={Path.Combine(_root, "work")}",
        "--Flame:ExecutorManager:NodeName=restart-node",
        "--Logging:Console:FormatterName=simple",
        "--Logging:Console:FormatterOptions:SingleLine=true",
    ];

    private async Task StartAsync()
    {
        _process?.Dispose();
        _starts++;
        _process = ChildProcess.StartProgram($"session-manager-{_starts}", Programs.SessionManager,
            Arguments(_gatewayPort, _siloPort, _orleansGatewayPort), logPath: Path.Combine(_root, $"session-manager-{_starts}.log"));
        await using var client = new GrpcFlameClient(Endpoint);
        await Wait.UntilAsync(
            async () =>
            {
                if (_process.HasExited)
                    return true;
                await foreach (var node in client.ListNodesAsync())
                    if (node.State == NodeState.Ready)
                        return true;
                return false;
            },
            "the embedded executor manager's node to be Ready", FlameCluster.StartTimeout, context: () => _process.Tail());
        Assert.False(_process.HasExited, $"the session manager exited with code {(_process.HasExited ? _process.ExitCode : 0)}: {_process.Tail()}");
    }
}
