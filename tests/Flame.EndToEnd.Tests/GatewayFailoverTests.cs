using System.Globalization;
using System.Text.RegularExpressions;
using Flame.Client;
using Flame.EndToEnd.Tests.Support;
using Xunit.Abstractions;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Issue 21: a client connected to the gateway whose silo dies carries on through the other one. flmping runs as a
/// process against both gateways of deploy/local-cluster.sh (PostgreSQL, two silos, two executor managers), and the
/// silo of the gateway it uses (the first it was given) is SIGKILLed at a random moment of the run: seeded, and the
/// seed is written to the test output so that a failure can be replayed with FLAME_E2E_SEED.
/// </summary>
public sealed partial class GatewayFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(400);

    private LocalCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await LocalCluster.StartAsync();

    public Task DisposeAsync() => _cluster.StopAsync();

    /// <summary>
    /// -p: CreateTasks in batches and one WatchSession; without: CreateTask and WatchTask per task, 64 at a time. The
    /// benchmark then runs min(tasks, 1000) more tasks one at a time, so its session holds that many more.
    /// </summary>
    [Theory]
    [InlineData(true, 20_000, 0)]
    [InlineData(false, 2_000, 0)]
    [InlineData(true, 20_000, 1)]
    public async Task Flmping_through_both_gateways_finishes_every_task_once_when_either_silo_is_killed(bool perf, int tasks, int victim)
    {
        var seed = int.TryParse(System.Environment.GetEnvironmentVariable("FLAME_E2E_SEED"), CultureInfo.InvariantCulture, out var given)
            ? given : Random.Shared.Next();
        var random = new Random(seed);
        // The kill lands between the first submission and three quarters of the run.
        var killAfter = random.Next(0, tasks * 3 / 4);
        output.WriteLine($"seed {seed} (replay with FLAME_E2E_SEED={seed}): session-manager-{victim + 1} is killed once {killAfter} of {tasks} tasks succeeded");
        await RunKilledAsync(perf, tasks, $"{killAfter} succeeded tasks", s => s.Succeed >= killAfter, victim: victim);
    }

    /// <summary>
    /// The kill at binding time: the session has its tasks and no executor has taken one yet (none Running or
    /// Succeed), so executors are being created and bound to the fresh session on the silo that dies.
    /// </summary>
    [Fact]
    public async Task Flmping_through_both_gateways_finishes_every_task_once_when_the_silo_of_its_gateway_is_killed_while_executors_are_bound()
    {
        SessionStatus? atKill = null;
        await RunKilledAsync(true, 20_000, "tasks and none taken yet", s =>
        {
            atKill = s;
            return s.Pending > 0 || s.Running > 0 || s.Succeed > 0;
        }, () => Assert.True(atKill is { Running: 0, Succeed: 0 },
            $"the kill should come before any executor took a task, it came at running {atKill?.Running}, succeed {atKill?.Succeed}"));
    }

    /// <param name="victim">The silo killed: 0, that of the gateway flmping uses (its first), or 1, the other one.</param>
    private async Task RunKilledAsync(bool perf, int tasks, string killWhen, Func<SessionStatus, bool> kill, Action? checkKill = null, int victim = 0)
    {
        var gateways = _cluster.Gateways;
        string[] arguments = ["-e", gateways[0], "-e", gateways[1], "-t", tasks.ToString(CultureInfo.InvariantCulture), .. perf ? ["-p"] : Array.Empty<string>()];
        using var flmping = ChildProcess.StartProgram("flmping", Programs.Flmping, arguments, new Dictionary<string, string?>
        {
            ["FLAME_CA_FILE"] = _cluster.Env["FLAME_CA_FILE"],
            ["FLAME_TOKEN_FILE"] = _cluster.Env["FLAME_TOKEN_FILE"],
            ["FLAME_ENDPOINT"] = null,
        });

        // The observer reads through the survivor only, so that it sees the run, not its own failover.
        await using var observer = _cluster.Client(gateways[1 - victim]);
        string? sessionId = null;
        SessionInfo? last = null;
        await Wait.UntilAsync(async () =>
            {
                sessionId ??= flmping.StandardOutput.Select(l => SessionLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
                if (sessionId is null)
                    return flmping.HasExited;
                last = await observer.GetSessionAsync(sessionId);
                return kill(last.Status) || flmping.HasExited;
            },
            $"flmping's session to have {killWhen}", RunTimeout,
            seen: () => Task.FromResult($"{Describe(last)}; flmping:{flmping.Tail(10)}"), context: _cluster.Logs);
        Assert.False(flmping.HasExited, $"flmping ended before the kill:{flmping.Tail()}{_cluster.Logs()}");
        checkKill?.Invoke();
        await _cluster.KillAsync($"session-manager-{victim + 1}");
        output.WriteLine($"killed session-manager-{victim + 1} with {Describe(last)}");

        var exitCode = await flmping.WaitForExitAsync(RunTimeout, $"flmping to finish {tasks} tasks after the kill");
        Assert.True(exitCode == 0, $"flmping should exit 0, exited {exitCode}:{flmping.Tail()}{_cluster.Logs()}");
        Assert.Empty(flmping.StandardError);

        // Nothing twice: the session holds exactly the tasks flmping meant to create, each Succeed with one terminal event.
        var total = perf ? tasks + Math.Min(tasks, 1000) : tasks;
        var all = await observer.CheckTasksAsync(sessionId!, total);
        Assert.All(all, t => Assert.True(t.State == TaskState.Succeed, $"task {t.Id} is {t.State}: {Describe(t.Events)}"));
    }

    /// <summary>
    /// The surviving gateway hides the death: a client connected to it alone (so nothing of ours retries) keeps
    /// creating tasks and reading sessions, several of which lived on the killed silo, and sees no error at all; its
    /// grain calls rejected by the dead silo are sent again by the gateway until the grains are back on the survivor.
    /// </summary>
    [Fact]
    public async Task A_client_of_the_surviving_gateway_sees_no_error_while_the_other_silo_dies()
    {
        await using var client = _cluster.Client(_cluster.Gateways[1]);
        // Created through the gateway that dies, so that their grains are placed on its silo (placement prefers the
        // caller's silo); the test checks below that some were restored on the survivor.
        var sessions = new List<string>();
        await using (var creator = _cluster.Client(_cluster.Gateways[0]))
        {
            for (var i = 0; i < 8; i++)
                sessions.Add((await creator.CreateSessionAsync(null, new SessionSpec { Application = "flmping" })).Id);
        }
        var created = sessions.ToDictionary(s => s, _ => new List<long>());
        var errors = new List<string>();

        async Task RoundAsync()
        {
            foreach (var session in sessions)
            {
                try
                {
                    created[session].Add((await client.CreateTaskAsync(session, null)).Id);
                    await client.GetSessionAsync(session);
                }
                catch (FlameException ex)
                {
                    errors.Add($"{session}: {ex.Kind}: {ex.Message}");
                }
            }
        }

        await RoundAsync();
        await _cluster.KillAsync("session-manager-1");
        // Rounds until every session answered after the dead silo was declared dead (about 4-6 s), and then some.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
            await RoundAsync();

        Assert.True(errors.Count == 0, $"the client saw {errors.Count} error(s): {string.Join("; ", errors.Take(5))}{_cluster.Logs()}");
        var restored = 0;
        foreach (var (session, ids) in created)
        {
            Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => (long)i), ids);
            var status = (await client.GetSessionAsync(session)).Status;
            Assert.Equal(ids.Count, status.Pending + status.Running + status.Succeed + status.Failed + status.Cancelled);
            if (status.Events.Any(e => e.Code == SessionEventCodes.Restored))
                restored++;
        }
        Assert.True(restored > 0, "no session lived on the killed silo (none has the Restored event): the test did not test the death");
    }

    /// <summary>
    /// The Pi sample, run as a process against both gateways, finishes with its estimate when the silo of its gateway
    /// is killed once some of its tasks have succeeded (seeded, as above).
    /// </summary>
    [Fact]
    public async Task The_Pi_sample_through_both_gateways_finishes_when_the_silo_of_its_gateway_is_killed()
    {
        var seed = int.TryParse(System.Environment.GetEnvironmentVariable("FLAME_E2E_SEED"), CultureInfo.InvariantCulture, out var given)
            ? given : Random.Shared.Next();
        const int tasks = 200;
        var killAfter = new Random(seed).Next(1, tasks * 3 / 4);
        output.WriteLine($"seed {seed} (replay with FLAME_E2E_SEED={seed}): session-manager-1 is killed once {killAfter} of {tasks} Pi tasks succeeded");
        var gateways = _cluster.Gateways;
        var app = $"pi-{Guid.NewGuid().ToString("N")[..8]}";
        using var pi = ChildProcess.StartProgram("pi-client", "pi-client",
            ["--endpoint", gateways[0], "--endpoint", gateways[1], "--tasks", tasks.ToString(CultureInfo.InvariantCulture),
             "--samples", "200000", "--app", app, "--timeout", ((int)RunTimeout.TotalSeconds - 30).ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string?>
            {
                ["FLAME_CA_FILE"] = _cluster.Env["FLAME_CA_FILE"],
                ["FLAME_TOKEN_FILE"] = _cluster.Env["FLAME_TOKEN_FILE"],
                ["FLAME_ENDPOINT"] = null,
            });

        await using var observer = _cluster.Client(gateways[1]);
        SessionInfo? session = null;
        await Wait.UntilAsync(async () =>
            {
                await foreach (var s in observer.ListSessionsAsync())
                    if (s.Spec.Application == app)
                        session = s;
                return session?.Status.Succeed >= killAfter || pi.HasExited;
            },
            $"the Pi session to have {killAfter} succeeded tasks", RunTimeout,
            seen: () => Task.FromResult($"{Describe(session)}; pi-client:{pi.Tail(10)}"), context: _cluster.Logs);
        Assert.False(pi.HasExited, $"pi-client ended before the kill:{pi.Tail()}{_cluster.Logs()}");
        await _cluster.KillAsync("session-manager-1");
        output.WriteLine($"killed session-manager-1 with {Describe(session)}");

        var exitCode = await pi.WaitForExitAsync(RunTimeout, $"pi-client to finish {tasks} tasks after the kill");
        Assert.True(exitCode == 0, $"pi-client should exit 0, exited {exitCode}:{pi.Tail()}{_cluster.Logs()}");
        Assert.Contains(pi.StandardOutput, l => l.StartsWith("pi is about 3.1", StringComparison.Ordinal));
        var all = await observer.CheckTasksAsync(session!.Id, tasks);
        Assert.All(all, t => Assert.True(t.State == TaskState.Succeed, $"task {t.Id} is {t.State}: {Describe(t.Events)}"));
    }

    [GeneratedRegex("^Session <([^>]+)> was created")]
    private static partial Regex SessionLine();
}
