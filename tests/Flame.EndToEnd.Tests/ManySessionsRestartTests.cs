using Flame.Client;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Issue 20 at a CI size: the one-command default with thousands of open sessions, a few of them with pending tasks,
/// killed and started again on the same data. The pending tasks run at once, although no client touches their
/// sessions; the idle sessions stay in the store; nothing is lost; the recovery is one log line.
/// </summary>
public sealed class ManySessionsRestartTests : IAsyncLifetime
{
    private const int IdleSessions = 3_000;
    private const int BusySessions = 3;
    private const int TasksPerBusySession = 5;
    private readonly string _root = Directory.CreateTempSubdirectory("flame-e2e-many-").FullName;
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
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A killed service may still hold a file for a moment; the folder is temporary anyway.
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Restarted_WithThousandsOfOpenSessions_ThePendingTasksOfAFewRunAtOnce_AndNoSessionOrTaskIsLost()
    {
        // First life: no executor manager, so that the tasks are still pending when the process dies.
        await StartAsync(executors: false);
        var created = new HashSet<string>(StringComparer.Ordinal);
        await using (var client = new GrpcFlameClient(Endpoint))
        {
            var spec = new ApplicationSpec { Command = Programs.DotnetHost, Arguments = [Programs.PathOf(Programs.TestService)], DelayRelease = 1 };
            await client.RegisterApplicationAsync("idle-app", spec);
            await client.RegisterApplicationAsync("busy-app", spec);
            foreach (var chunk in Enumerable.Range(0, IdleSessions).Chunk(100))
                foreach (var session in await Task.WhenAll(chunk.Select(i => client.CreateSessionAsync($"idle-{i:D5}", new SessionSpec { Application = "idle-app" }))))
                    created.Add(session.Id);
            for (var b = 0; b < BusySessions; b++)
            {
                var session = await client.CreateSessionAsync($"busy-{b}", new SessionSpec { Application = "busy-app" });
                created.Add(session.Id);
                await client.CreateTasksAsync(session.Id, Enumerable.Range(1, TasksPerBusySession).Select(i => (byte[]?)Utf8($"echo:{session.Id}-{i}")).ToList());
            }
        }
        _process!.Kill();

        await StartAsync(executors: true);
        await using (var client = new GrpcFlameClient(Endpoint))
        {
            // Watched through the list, which reads the store: polling GetSession would wake the sessions itself.
            var busy = new SessionFilter { Application = "busy-app" };
            List<SessionInfo> seen = [];
            await Wait.UntilAsync(
                async () =>
                {
                    seen = await client.ListSessionsAsync(busy).ToListAsync();
                    return seen.Count == BusySessions && seen.All(s => s.Status.Succeed == TasksPerBusySession);
                },
                $"the {BusySessions * TasksPerBusySession} pending tasks of the busy sessions to succeed with no client calling their sessions",
                TasksTimeout, context: () => $"{string.Join("; ", seen.Select(s => Describe(s)))}\n{_process!.Tail()}");

            var listed = await client.ListSessionsAsync(new SessionFilter { PageSize = 1_000 }).ToListAsync();
            Assert.Equal(created.Order(StringComparer.Ordinal), listed.Select(s => s.Id).Order(StringComparer.Ordinal));
            Assert.All(listed, s => Assert.Equal(SessionState.Open, s.Status.State));
            for (var b = 0; b < BusySessions; b++)
            {
                var tasks = await client.CheckTasksAsync($"busy-{b}", TasksPerBusySession);
                Assert.All(tasks, t => Assert.Equal($"busy-{b}-{t.Id}", Text(t.Output)));
            }
        }
        var recovery = Assert.Single(_process!.Output, line => line.Contains("Recovery:", StringComparison.Ordinal));
        Assert.Contains($"Recovery: {BusySessions} open session(s) with work woken ({BusySessions * TasksPerBusySession} pending", recovery);
        Assert.DoesNotContain(_process.Output, line => line.Contains("restored from the task store", StringComparison.Ordinal));
    }

    private async Task StartAsync(bool executors)
    {
        _process?.Dispose();
        _starts++;
        List<string> arguments =
        [
            $"--Flame:SessionManager:Endpoint={Endpoint}",
            "--Flame:SessionManager:BackendEndpoint=none",
            $"--Flame:SessionManager:SiloPort={_siloPort}",
            $"--Flame:SessionManager:OrleansGatewayPort={_orleansGatewayPort}",
            "--Flame:SessionManager:RegisterBuiltInApplications=false",
            $"--Flame:SessionManager:EmbeddedExecutorManager={executors}",
            $"--Flame:Storage:DataDirectory={Path.Combine(_root, "data")}",
            "--Flame:ExecutorManager:Slots=2",
            $"--Flame:ExecutorManager:WorkDirectory={Path.Combine(_root, "work")}",
            "--Flame:ExecutorManager:NodeName=many-node",
            "--Logging:Console:FormatterName=simple",
            "--Logging:Console:FormatterOptions:SingleLine=true",
        ];
        _process = ChildProcess.StartProgram($"session-manager-{_starts}", Programs.SessionManager, arguments,
            logPath: Path.Combine(_root, $"session-manager-{_starts}.log"));
        await using var client = new GrpcFlameClient(Endpoint);
        await Wait.UntilAsync(
            async () =>
            {
                if (_process.HasExited)
                    return true;
                if (!executors)
                    return (await client.ListApplicationsAsync().ToListAsync()) is not null;
                await foreach (var node in client.ListNodesAsync())
                    if (node.State == NodeState.Ready)
                        return true;
                return false;
            },
            executors ? "the embedded executor manager's node to be Ready" : "the gateway to answer", FlameCluster.StartTimeout,
            context: () => _process.Tail());
        Assert.False(_process.HasExited, $"the session manager exited with code {(_process.HasExited ? _process.ExitCode : 0)}: {_process.Tail()}");
    }
}
