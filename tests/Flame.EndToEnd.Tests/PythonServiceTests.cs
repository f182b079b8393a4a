using System.Globalization;
using System.Text.RegularExpressions;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Services and clients written in Python as Flame's own SDKs write them: grpcio and modules generated from our
/// protos, serving flame.v1.Instance only (no InstanceExt task stream), run by the real executor managers.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class PythonServiceTests(ClusterFixture fixture)
{
    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task FreshPythonServices_WithoutTheTaskStream_RunEveryTaskExactlyOnce_AtTheFirstAttempt()
    {
        var client = _cluster.Client;
        var python = await Python.InterpreterAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var modules = Path.Combine(_cluster.Root, $"py-modules-{run}");
        await Python.GenerateModulesAsync(modules);
        // One file for every service of the run: each line is one O_APPEND write, marked with the process's id.
        var log = Path.Combine(_cluster.Root, $"echo-python-{run}.log");

        // Each session has an application of its own, so that each is served by freshly started services whatever
        // the executor managers' policy on reusing a service between sessions: a fresh service's first task is the
        // one that the task stream's refusal used to cost.
        const int Sessions = 12, TasksPerSession = 3;
        var sessions = new List<string>();
        for (var s = 0; s < Sessions; s++)
        {
            var application = $"echo-python-{run}-{s}";
            await client.RegisterApplicationAsync(application, new ApplicationSpec
            {
                Description = "end-to-end test: a Python service that serves flame.v1.Instance only",
                Command = python,
                Arguments = [Python.Sample("echo-python", "echo_service.py")],
                Environments =
                [
                    new EnvironmentVariable { Name = "FLAME_PY_STUBS", Value = modules },
                    new EnvironmentVariable { Name = "FLAME_ECHO_LOG", Value = log },
                ],
                DelayRelease = 1,
                MaxInstances = 1,
            });
            var session = await client.CreateSessionAsync(null, new SessionSpec { Application = application });
            sessions.Add(session.Id);
            await client.CreateTasksAsync(session.Id, Enumerable.Range(1, TasksPerSession).Select(i => $"{session.Id}/{i}"));
        }

        foreach (var session in sessions)
        {
            await _cluster.WaitUntilAllTerminalAsync(session, TasksPerSession);
            var tasks = await client.CheckTasksAsync(session, TasksPerSession);
            Assert.All(tasks, t => Assert.True(
                t.State == TaskState.Succeed && Text(t.Output) == $"{session}/{t.Id}",
                $"task {t.Id} of session {session}: {t.State}, output {Text(t.Output)}; {Describe(t.Events)}"));
            // A failed attempt leaves an event that says so ("attempt 1 of 3 failed: ..."), even when a retry succeeds.
            Assert.All(tasks, t => Assert.False(
                t.Events.Any(e => e.Message is { } m && m.Contains("attempt", StringComparison.Ordinal)),
                $"task {t.Id} of session {session} needed more than one attempt: {Describe(t.Events)}"));
            await client.CloseSessionAsync(session);
        }
        foreach (var session in sessions)
            await _cluster.WaitUntilNoExecutorServesAsync(session);

        var calls = ReadCalls(log);
        foreach (var session in sessions)
        {
            // One process (max_instances 1) entered the session, ran each of its tasks exactly once, and left it: none
            // was taken for dead, killed and replaced, and no task ran twice.
            var entered = calls.Where(c => c.Verb == "enter" && c.Session == session).Select(c => c.Pid).ToList();
            Assert.True(entered.Count == 1, $"session {session} should have been entered by one service process, was by [{string.Join(", ", entered)}]; calls: {Show(calls, session)}");
            var pid = entered[0];
            var invoked = calls.Where(c => c.Verb == "invoke" && c.Session == session).ToList();
            Assert.True(invoked.All(c => c.Pid == pid), $"every task of session {session} should have run in process {pid}; calls: {Show(calls, session)}");
            Assert.Equal(Enumerable.Range(1, TasksPerSession).Select(i => i.ToString(CultureInfo.InvariantCulture)), invoked.Select(c => c.Task).Order());
            Assert.True(calls.Any(c => c.Verb == "leave" && c.Session == session && c.Pid == pid),
                $"process {pid} should have left session {session}; calls: {Show(calls, session)}");
            // The executor manager chose OnTaskInvoke for it, once, before its first task.
            Assert.True(_cluster.ExecutorManagerLinesContaining($"the service (pid {pid}) gets its tasks through OnTaskInvoke").Count == 1,
                $"the executor manager should have logged once that process {pid} gets its tasks through OnTaskInvoke{_cluster.Tails()}");
        }
    }

    [Fact]
    public async Task PiSample_InPython_EstimatesPi_WithAPythonClientAndAPythonService()
    {
        var python = await Python.InterpreterAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var modules = Path.Combine(_cluster.Root, $"py-modules-{run}");
        await Python.GenerateModulesAsync(modules);

        var result = await ExternalCommand.RunAsync(
            python,
            [Python.Sample("Pi", "python", "pi_client.py"), "--endpoint", _cluster.Endpoint, "--app", $"pi-python-{run}",
             "--tasks", "6", "--samples", "20000", "--timeout", "120"],
            TimeSpan.FromSeconds(180),
            "python3 runs the sample",
            new Dictionary<string, string> { ["FLAME_PY_STUBS"] = modules });

        Assert.True(result.ExitCode == 0, $"expected the Python Pi client to succeed{result}{_cluster.Tails()}");
        var estimate = result.StandardOutput.Select(l => PiLine().Match(l)).FirstOrDefault(m => m.Success);
        Assert.True(estimate is not null, $"expected a line 'pi is about ...'{result}");
        // 120,000 samples: the standard error of the estimate is about 0.005.
        var pi = double.Parse(estimate.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(pi, 3.09, 3.19);
        Assert.Contains(result.StandardOutput, l => l.StartsWith($"registered application 'pi-python-{run}'", StringComparison.Ordinal));
    }

    private sealed record Call(string Pid, string Verb, string Session, string Task);

    /// <summary>The echo services' lines: <c>PID enter SESSION</c>, <c>PID invoke SESSION TASK</c>, <c>PID leave SESSION</c>.</summary>
    private static List<Call> ReadCalls(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var calls = new List<Call>();
        while (reader.ReadLine() is { } line)
        {
            var parts = line.Split(' ');
            if (parts.Length >= 3)
                calls.Add(new Call(parts[0], parts[1], parts[2], parts.Length > 3 ? parts[3] : ""));
        }
        return calls;
    }

    private static string Show(IEnumerable<Call> calls, string session) =>
        string.Join(" | ", calls.Where(c => c.Session == session).Select(c => $"{c.Pid} {c.Verb} {c.Task}".TrimEnd()));

    [GeneratedRegex(@"^pi is about (\d+\.\d+) ")]
    private static partial Regex PiLine();
}
