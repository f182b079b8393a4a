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

    [Fact]
    public async Task ASessionManager_WhoseBackendPortIsTaken_IsRefusedInOneLine()
    {
        var port = FreePorts.NextPair();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port + 1);
        taken.Start();
        var arguments = Arguments(port, FreePorts.Next(), FreePorts.Next());
        arguments.Remove("--Flame:SessionManager:BackendEndpoint=none"); // the default: the frontend's port + 1
        using var process = ChildProcess.StartProgram("taken-backend", Programs.SessionManager, arguments);

        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60), "the session manager to give up");

        Assert.Equal(1, exit);
        var line = Assert.Single(process.StandardError);
        Assert.Contains($"127.0.0.1:{port + 1}", line);
        Assert.Contains("Flame:SessionManager:BackendEndpoint", line);
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
        "--Flame:SessionManager:BackendEndpoint=none",
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

/// <summary>
/// A whole two-silo cluster on PostgreSQL stopped (both session managers SIGKILLed) in the middle of a session and
/// started again on the same database; the executor managers keep running and come back to it on their own.
/// </summary>
public sealed class ClusterRestartTests : IAsyncLifetime
{
    private const int Tasks = 600;
    private readonly string _root = Directory.CreateTempSubdirectory("flame-e2e-cluster-restart-").FullName;
    private readonly (int Gateway, int Silo, int Orleans)[] _ports = [(FreePorts.Next(), FreePorts.Next(), FreePorts.Next()), (FreePorts.Next(), FreePorts.Next(), FreePorts.Next())];
    private readonly List<ChildProcess> _processes = [];
    private ThrowawayPostgres? _postgres;
    private string _database = "";
    private int _starts;

    private string Gateways => string.Join(',', _ports.Select(p => $"http://127.0.0.1:{p.Gateway}"));

    public async Task InitializeAsync()
    {
        _postgres = await ThrowawayPostgres.StartAsync();
        _database = await _postgres.CreateDatabaseAsync("restart");
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.Kill();
            process.Dispose();
        }
        if (_postgres is not null)
            await _postgres.DisposeAsync();
        if (System.Environment.GetEnvironmentVariable("FLAME_E2E_KEEP") != "1")
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
    }

    [Fact]
    public async Task WholeClusterKilledAndRestarted_TheSessionFinishes_EachTaskOnceWithItsOutput()
    {
        var silos = await StartSilosAsync(initDatabase: true);
        foreach (var node in new[] { "em-r1", "em-r2" })
        {
            var work = Path.Combine(_root, node);
            Directory.CreateDirectory(work);
            _processes.Add(ChildProcess.StartProgram(node, Programs.ExecutorManager,
                ["--endpoint", Gateways, "--slots", "2", "--node", node, "--work-dir", work],
                ClusterSettings.ExecutorManager(taskTimeout: null), workingDirectory: work, logPath: Path.Combine(_root, node + ".log")));
        }

        await using (var client = new GrpcFlameClient(Gateways))
        {
            await client.RegisterApplicationAsync("restart-app", new ApplicationSpec
            {
                Command = Programs.DotnetHost,
                Arguments = [Programs.PathOf(Programs.TestService)],
                DelayRelease = 5,
            });
            await client.CreateSessionAsync("cluster-restart", new SessionSpec { Application = "restart-app" });
            Assert.Equal(1, await client.CreateTasksAsync("cluster-restart",
                Enumerable.Range(1, Tasks).Select(i => (byte[]?)Utf8($"slowecho:10:out-{i}")).ToList()));
            await Wait.UntilAsync(
                async () => (await client.GetSessionAsync("cluster-restart")).Status.Succeed >= 50,
                "50 tasks to succeed before the cluster is killed", TasksTimeout, context: Logs);
        }

        foreach (var silo in silos)
            silo.Kill();
        await StartSilosAsync(initDatabase: false);

        await using (var client = new GrpcFlameClient(Gateways))
        {
            SessionInfo? last = null;
            await Wait.UntilAsync(
                async () =>
                {
                    last = await client.GetSessionAsync("cluster-restart");
                    return last.Status.Succeed + last.Status.Failed + last.Status.Cancelled == Tasks;
                },
                $"all {Tasks} tasks to be terminal after the restart", TimeSpan.FromSeconds(180),
                seen: () => Task.FromResult(Describe(last)), context: Logs);
            var tasks = await client.CheckTasksAsync("cluster-restart", Tasks);
            Assert.All(tasks, t => Assert.True(t.State == TaskState.Succeed && Text(t.Output) == $"out-{t.Id}",
                $"task {t.Id} should have succeeded with out-{t.Id}, is {t.State} with {Text(t.Output)}: {Describe(t.Events)}"));
            Assert.Contains(last!.Status.Events, e => e.Code == SessionEventCodes.Restored);
        }
    }

    private async Task<List<ChildProcess>> StartSilosAsync(bool initDatabase)
    {
        _starts++;
        var silos = new List<ChildProcess>();
        for (var i = 0; i < _ports.Length; i++)
        {
            var (gateway, silo, orleans) = _ports[i];
            var name = $"sm-{i + 1}";
            List<string> arguments =
            [
                $"--Flame:SessionManager:Name={name}",
                $"--Flame:SessionManager:Endpoint=http://127.0.0.1:{gateway}",
                "--Flame:SessionManager:BackendEndpoint=none",
                $"--Flame:SessionManager:SiloPort={silo}",
                $"--Flame:SessionManager:OrleansGatewayPort={orleans}",
                "--Flame:SessionManager:EmbeddedExecutorManager=false",
                "--Flame:SessionManager:RegisterBuiltInApplications=false",
                "--Flame:Cluster:Provider=Postgres",
                $"--Flame:Cluster:ConnectionString={_database}",
                "--Flame:Cluster:AdvertisedAddress=127.0.0.1",
                "--Logging:Console:FormatterName=simple",
                "--Logging:Console:FormatterOptions:SingleLine=true",
            ];
            // One silo applies the schema; both starting together with --init-db would also be safe.
            if (initDatabase && i == 0)
                arguments.Add("--init-db");
            var process = ChildProcess.StartProgram($"{name}-{_starts}", Programs.SessionManager, arguments,
                logPath: Path.Combine(_root, $"{name}-{_starts}.log"));
            _processes.Add(process);
            silos.Add(process);
            if (initDatabase && i == 0)
                await WaitServingAsync(process, gateway); // the schema exists before the second silo checks it
        }
        for (var i = 0; i < silos.Count; i++)
            await WaitServingAsync(silos[i], _ports[i].Gateway);
        return silos;
    }

    private async Task WaitServingAsync(ChildProcess process, int gateway)
    {
        await using var client = new GrpcFlameClient($"http://127.0.0.1:{gateway}");
        await Wait.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                    return true;
                await foreach (var _ in client.ListNodesAsync())
                {
                }
                return true;
            },
            $"the gateway on port {gateway} to answer", FlameCluster.StartTimeout, context: () => process.Tail());
        Assert.False(process.HasExited, $"{process.Name} exited: {process.Tail()}");
    }

    private string Logs() =>
        string.Concat(_processes.Select(p => $"\n--- {p.Name}:\n{p.Tail(12)}"));
}
