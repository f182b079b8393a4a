using System.Globalization;
using System.Text.Json;
using Flame.Client;
using Flame.EndToEnd.Tests.Support;
using Xunit.Abstractions;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Issue 21's "standard flame.v1 client (not ours)": a Python client of grpcio and the stubs generated from protos/
/// (tests/Flame.EndToEnd.Tests/Python/failover_client.py), run as a process against both gateways of
/// deploy/local-cluster.sh. It does only what the README asks of a client when a silo dies: on UNAVAILABLE, the
/// next gateway and the same create again with the same flame-idempotency-key.
/// </summary>
public sealed class PythonClientFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Creates = 600;

    // Many answers in flight when the silo dies, so that some creates were committed and their answers lost: the
    // retries that a missing dedupe would turn into second tasks.
    private const int InFlight = 32;

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(300);

    private LocalCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await LocalCluster.StartAsync();

    public Task DisposeAsync() => _cluster.StopAsync();

    [Fact]
    public async Task A_Python_client_that_retries_with_its_key_on_the_other_gateway_sees_only_UNAVAILABLE_and_every_task_succeeds_once()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FLAME_E2E_SEED"), CultureInfo.InvariantCulture, out var given)
            ? given : Random.Shared.Next();
        var killAfter = new Random(seed).Next(1, Creates / 2);
        output.WriteLine($"seed {seed} (replay with FLAME_E2E_SEED={seed}): session-manager-1 is killed once {killAfter} of {Creates} creates were answered");

        var python = await Python.InterpreterAsync();
        var modules = Path.Combine(Path.GetTempPath(), $"fe2e-pyfailover-{Guid.NewGuid().ToString("N")[..8]}");
        await Python.GenerateModulesAsync(modules);
        try
        {
            // The client kills the silo itself, between two of its answers, so that creates are in flight when it dies.
            var gateways = _cluster.Gateways;
            var run = await ExternalCommand.RunAsync(python,
                [Path.Combine(ExternalCommand.RepositoryRoot, "tests", "Flame.EndToEnd.Tests", "Python", "failover_client.py"),
                    "--gateway", gateways[0], "--gateway", gateways[1],
                    "--ca", _cluster.Env["FLAME_CA_FILE"], "--token", _cluster.Env["FLAME_TOKEN_FILE"],
                    "--tasks", Creates.ToString(CultureInfo.InvariantCulture), "--in-flight", InFlight.ToString(CultureInfo.InvariantCulture), "--kill-after", killAfter.ToString(CultureInfo.InvariantCulture),
                    "--kill-group", _cluster.ProcessGroup("session-manager-1").ToString(CultureInfo.InvariantCulture)],
                RunTimeout, "python3 with grpcio is required", new Dictionary<string, string> { ["FLAME_PY_STUBS"] = modules });

            // Its one line of JSON: what it created and every error it met; it exits 1 on any error but UNAVAILABLE.
            var report = run.StandardOutput.LastOrDefault(l => l.StartsWith('{'));
            Assert.True(report is not null, $"the Python client printed no report (seed {seed}){run}{_cluster.Logs()}");
            using var json = JsonDocument.Parse(report);
            var errors = json.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.True(errors.Count == 0 && run.ExitCode == 0,
                $"the Python client saw errors other than UNAVAILABLE (seed {seed}): {string.Join("; ", errors.Take(5))}{run}{_cluster.Logs()}");
            output.WriteLine($"{json.RootElement.GetProperty("unavailable").GetInt32()} UNAVAILABLE answer(s), each followed by a retry with the same key");
            var ids = json.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal(Creates, ids.Distinct().Count());

            // Exactly the tasks it meant to create, each Succeed with one terminal event: no retry made a second one.
            var session = json.RootElement.GetProperty("session").GetString()!;
            await using var observer = _cluster.Client(gateways[1]);
            SessionInfo? last = null;
            await Wait.UntilAsync(async () =>
                {
                    last = await observer.GetSessionAsync(session);
                    return last.Status is { Pending: 0, Running: 0 };
                },
                $"the {Creates} tasks of session {session} to end", RunTimeout,
                seen: () => Task.FromResult(Describe(last)), context: _cluster.Logs);
            var all = await observer.CheckTasksAsync(session, Creates);
            Assert.All(all, t => Assert.True(t.State == TaskState.Succeed, $"task {t.Id} is {t.State}: {Describe(t.Events)}"));
        }
        finally
        {
            Directory.Delete(modules, recursive: true);
        }
    }
}
