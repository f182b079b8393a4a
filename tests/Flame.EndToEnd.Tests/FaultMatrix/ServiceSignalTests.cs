using System.Globalization;
using Flame.Client;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests.FaultMatrix;

/// <summary>
/// The fault matrix's service rows: a service process signalled from outside (by an operator, the OOM killer, a
/// debugger) while it runs tasks. A killed one fails its attempt at once; a frozen one (SIGSTOP) answers nothing and
/// dies by the task timeout (<see cref="ClusterFixture.TaskTimeout"/> here; 1 h by default). Either way every task
/// runs again on a new service and ends once, Succeed, with its own output.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServiceSignalTests(ClusterFixture fixture)
{
    private const int Tasks = 6;

    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public Task A_service_frozen_with_SIGSTOP_has_its_task_ended_by_the_task_timeout_and_run_again_elsewhere() =>
        SignalMidTaskAsync("STOP", [$"timed out after {ClusterFixture.TaskTimeout.TotalSeconds:0}s; the service was killed"]);

    [Fact]
    public Task A_service_killed_with_SIGKILL_from_outside_has_its_task_run_again_elsewhere() =>
        SignalMidTaskAsync("KILL", ["exited with code 137", "lost the connection to the service process"]);

    /// <summary>Signals every service of a busy session; one task's first attempt must fail with one of <paramref name="failedAttempt"/>.</summary>
    private async Task SignalMidTaskAsync(string signal, string[] failedAttempt)
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync($"signal-{signal.ToLowerInvariant()}");
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, Tasks).Select(i => $"slowecho:1500:out-{i}"));

        // Every service of the session that has taken a task, once one has.
        IReadOnlyList<int> victims = [];
        await _cluster.UntilAsync(
            () => Task.FromResult((victims = ServicesOf(app)).Count > 0),
            $"a service of {app.Name} to run a task", TimeSpan.FromSeconds(60));
        try
        {
            foreach (var pid in victims)
                await Processes.SignalAsync(signal, pid);

            await _cluster.WaitUntilAllTerminalAsync(session.Id, Tasks);
            var tasks = await client.CheckTasksAsync(session.Id, Tasks);
            Assert.All(tasks, t => Assert.True(t.State == TaskState.Succeed && Text(t.Output) == $"out-{t.Id}",
                $"task {t.Id} should have succeeded with out-{t.Id}, is {t.State} with {Text(t.Output)}: {Describe(t.Events)}"));
            Assert.Contains(tasks, t => t.Events.Any(e => e.Message is { } m && m.Contains("attempt 1 of", StringComparison.Ordinal)
                                                                              && failedAttempt.Any(f => m.Contains(f, StringComparison.Ordinal))));
            // The frozen services were killed, not left behind.
            await _cluster.UntilAsync(
                () => Task.FromResult(victims.All(Processes.HasExited)), $"the {signal} services ({string.Join(", ", victims)}) to be gone",
                TimeSpan.FromSeconds(30));
            await client.CloseSessionAsync(session.Id);
        }
        finally
        {
            foreach (var pid in victims)
                await Processes.SignalAsync("KILL", pid);
        }
    }

    /// <summary>
    /// The service processes of <paramref name="app"/> that have taken a task: those whose environment names its call log
    /// and whose call log (in their working directory, their executor's) holds an invoke. One still entering the
    /// session is left alone: killing it fails a bind, not a task, and enough of those pause the session by design.
    /// </summary>
    private static List<int> ServicesOf(TestApplication app)
    {
        var variable = $"FLAME_TEST_SERVICE_LOG={app.Name}{TestApplication.CallLogSuffix}\0";
        var pids = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || Processes.HasExited(pid))
                continue;
            try
            {
                var calls = Path.Combine(directory, "cwd", app.Name + TestApplication.CallLogSuffix);
                if (File.ReadAllText(Path.Combine(directory, "environ")).Contains(variable, StringComparison.Ordinal)
                    && File.Exists(calls) && File.ReadLines(calls).Any(l => l.StartsWith("invoke ", StringComparison.Ordinal)))
                    pids.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited meanwhile, or not ours to read.
            }
        }
        return pids;
    }
}
