using System.Globalization;
using Flame.Client;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Faults of the control plane under load, on the topology of deploy/local-cluster.sh (PostgreSQL, two silos, two
/// executor managers as real processes): every task accepted before the fault ends in exactly one terminal state with
/// its own output.
/// </summary>
public sealed class ClusterFaultTests : IAsyncLifetime
{
    private const int Tasks = 2000;
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromSeconds(240);

    private readonly string _state = Path.Combine(Path.GetTempPath(), $"fe2e-fault-{Guid.NewGuid().ToString("N")[..8]}");
    private Dictionary<string, string> _cluster = [];

    private Dictionary<string, string> Environment => new()
    {
        ["FLAME_LOCAL_CLUSTER_DIR"] = _state,
        ["FLAME_LOCAL_CLUSTER_BUILD"] = "0",
        ["FLAME_LOCAL_CLUSTER_CONFIGURATION"] = ExternalCommand.Configuration,
        ["FLAME_LOCAL_CLUSTER_TIMEOUT"] = "200",
        // Beside what the script allows its nodes: the test service of this folder.
        ["Flame__ExecutorManager__AllowedCommands__9"] = AppContext.BaseDirectory,
    };

    public async Task InitializeAsync()
    {
        var start = await ExternalCommand.RunAsync("bash", ["deploy/local-cluster.sh", "start"], ScriptTimeout, "bash is required", Environment);
        Assert.True(start.ExitCode == 0, $"local-cluster.sh start should succeed{start}");
        _cluster = File.ReadAllLines(Path.Combine(_state, "cluster.env"))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
    }

    public async Task DisposeAsync()
    {
        var stop = await ExternalCommand.RunAsync("bash", ["deploy/local-cluster.sh", "stop"], ScriptTimeout, "bash is required", Environment);
        if (stop.ExitCode == 0 && System.Environment.GetEnvironmentVariable("FLAME_E2E_KEEP") != "1" && Directory.Exists(_state))
            Directory.Delete(_state, recursive: true);
    }

    /// <summary>A client of the secured cluster: its gateways, verified with its CA, as its administrator.</summary>
    private GrpcFlameClient Client(string gateways) =>
        new(Flame.Client.Configuration.FlameClientConfig.ResolveConnection([gateways], environment: name => name switch
        {
            "FLAME_CA_FILE" => _cluster["FLAME_CA_FILE"],
            "FLAME_TOKEN_FILE" => _cluster["FLAME_TOKEN_FILE"],
            _ => null,
        }));

    [Fact]
    public async Task SiloKilledMidSession_TheOtherSiloFinishesIt()
    {
        // The client knows both gateways, the survivor first: calls fail over when a connection breaks.
        var gateways = _cluster["GATEWAYS"].Split(',');
        await using var client = Client($"{gateways[1]},{gateways[0]}");
        var session = await StartBusySessionAsync(client, "silo-kill");

        await KillAsync(Path.Combine(_state, "pids", "session-manager-1.pid"));

        await FinishAndCheckAsync(client, session);
    }

    [Fact]
    public async Task MachineKilledMidSession_ItsSiloAndExecutorManagerTogether_TheOthersFinishIt()
    {
        // One machine ran session-manager-1 and executor-manager-1 (whose gateway is session-manager-1's): both die.
        // Wherever node em-1's grain lived, its executors must be lost and their tasks run on em-2.
        var gateways = _cluster["GATEWAYS"].Split(',');
        await using var client = Client($"{gateways[1]},{gateways[0]}");
        var session = await StartBusySessionAsync(client, "machine-kill");

        await KillAsync(Path.Combine(_state, "pids", "executor-manager-1.pid"));
        await KillAsync(Path.Combine(_state, "pids", "session-manager-1.pid"));

        await FinishAndCheckAsync(client, session);
    }

    [Fact]
    public async Task PostgresRestartedMidSession_NothingIsLost()
    {
        await using var client = Client(_cluster["GATEWAYS"]);
        var session = await StartBusySessionAsync(client, "pg-restart");

        var data = Path.Combine(_cluster["POSTGRES_DATA"], "data");
        var restart = await ExternalCommand.RunAsync("runuser",
            // -l: the new server logs to a file; otherwise it would hold this command's output pipes open.
            ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60",
             "-l", Path.Combine(_cluster["POSTGRES_DATA"], "postgres.log"), "restart"],
            ScriptTimeout, "runuser is required (PostgreSQL refuses to run as root)");
        Assert.True(restart.ExitCode == 0, $"PostgreSQL should restart{restart}");

        await FinishAndCheckAsync(client, session);
    }

    /// <summary>A session of <see cref="Tasks"/> tasks, returned once some have succeeded and most have not.</summary>
    private async Task<string> StartBusySessionAsync(GrpcFlameClient client, string purpose)
    {
        var app = $"{purpose}-{Guid.NewGuid().ToString("N")[..6]}";
        await client.RegisterApplicationAsync(app, new ApplicationSpec
        {
            Command = Programs.DotnetHost,
            Arguments = [Programs.PathOf(Programs.TestService)],
            DelayRelease = 5,
        });
        var session = await client.CreateSessionAsync(app, new SessionSpec { Application = app });
        var first = await client.CreateTasksAsync(session.Id, Enumerable.Range(1, Tasks).Select(i => (byte[]?)Utf8($"slowecho:5:out-{i}")).ToList());
        Assert.Equal(1, first);
        SessionInfo? last = null;
        await Wait.UntilAsync(
            async () => (last = await client.GetSessionAsync(session.Id)).Status.Succeed >= 100,
            "100 tasks to succeed before the fault", TasksTimeout,
            seen: async () => $"{Describe(last)}; executors: "
                + string.Join(", ", (await ExecutorsOfAsync(client, session.Id)).Select(e => $"{e.Id} on {e.Node} {e.State}")),
            context: Logs);
        return session.Id;
    }

    private async Task FinishAndCheckAsync(GrpcFlameClient client, string sessionId)
    {
        SessionInfo? last = null;
        await Wait.UntilAsync(
            async () =>
            {
                // Each poll is bounded: once (fresh clone, TLS, 2026-12-07) a GetSession through the surviving gateway
                // after the kill never returned (a hang dump showed it inside Grpc.Net.Client's retry call); such a
                // call is given up and polled again, and the session must still finish within FinishTimeout.
                using var poll = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    last = await client.GetSessionAsync(sessionId, poll.Token);
                }
                catch (OperationCanceledException) when (poll.IsCancellationRequested)
                {
                    return false;
                }
                catch (FlameException) when (poll.IsCancellationRequested)
                {
                    return false;
                }
                return last.Status.Succeed + last.Status.Failed + last.Status.Cancelled == Tasks;
            },
            $"all {Tasks} tasks to be terminal after the fault", FinishTimeout,
            seen: () => Task.FromResult(Describe(last)), context: Logs);
        var tasks = await client.CheckTasksAsync(sessionId, Tasks);
        Assert.All(tasks, t => Assert.True(t.State == TaskState.Succeed && Text(t.Output) == $"out-{t.Id}",
            $"task {t.Id} should have succeeded with out-{t.Id}, is {t.State} with {Text(t.Output)}: {Describe(t.Events)}"));
        await client.CloseSessionAsync(sessionId);
    }

    private static async Task KillAsync(string pidFile)
    {
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        // Its process group: the session manager (dotnet) and anything it started.
        var kill = await ExternalCommand.RunAsync("kill", ["-KILL", "--", $"-{pid}"], TimeSpan.FromSeconds(30), "kill is required");
        Assert.True(kill.ExitCode == 0, $"{Path.GetFileNameWithoutExtension(pidFile)} should be killed{kill}");
    }

    private string Logs()
    {
        var logs = Path.Combine(_state, "logs");
        if (!Directory.Exists(logs))
            return "";
        return string.Concat(Directory.EnumerateFiles(logs).Order().Select(f =>
            $"\n--- {Path.GetFileName(f)}, last lines:\n  {string.Join("\n  ", File.ReadLines(f).TakeLast(12))}"));
    }
}
