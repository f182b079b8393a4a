using Flame.EndToEnd.Tests.Support;
using Grpc.Net.Client;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>An executor manager killed with SIGKILL while its services run tasks.</summary>
[Collection(FailoverCollection.Name)]
public sealed class NodeFailureTests(FailoverFixture fixture)
{
    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task KilledExecutorManager_ItsTasksRunAgainOnTheOtherNode()
    {
        var victim = _cluster.ExecutorManager("em-1");
        var session = await NodeLoss.StartBusySessionAsync(_cluster, "em-1", tasks: 4);

        victim.Kill(); // SIGKILL to the executor manager and its services

        await NodeLoss.WaitUntilNodeIsAsync(_cluster, "em-1", NodeState.NotReady);
        await NodeLoss.CheckLostTasksRanAgainAsync(_cluster, session.Id, "em-1", tasks: 4);
        Assert.DoesNotContain(await ExecutorsOfAsync(_cluster.Client, session.Id), e => e.Node == "em-1");
        await _cluster.Client.CloseSessionAsync(session.Id);
    }
}

/// <summary>
/// An executor manager frozen (SIGSTOP) for longer than the heartbeat timeout while its services run tasks, then
/// resumed: the gateway has given its executors up and run their tasks elsewhere; the results the paused executors
/// send late are refused (each task's output names the executor that ran it); the node must come back and serve.
/// </summary>
[Collection(NodeFaultCollection.Name)]
public sealed class NodePauseTests(NodeFaultFixture fixture)
{
    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task PausedExecutorManager_TasksRunAgainElsewhere_ItsLateResultsAreRefused_AndTheNodeServesAgainOnceResumed()
    {
        var victim = _cluster.ExecutorManager("em-p");
        // Each task answers with the executor, process and directory that ran it.
        var first = await NodeLoss.StartBusySessionAsync(_cluster, "em-p", tasks: 4, input: "who:8000");
        var paused = (await ExecutorsOfAsync(_cluster.Client, first.Id)).Where(e => e.Node == "em-p").Select(e => e.Id).ToList();

        victim.Pause();
        try
        {
            await NodeLoss.WaitUntilNodeIsAsync(_cluster, "em-p", NodeState.NotReady);
        }
        finally
        {
            victim.Resume();
        }

        // Resumed while the re-runs on em-q still have seconds to go, its services finish their 8 s tasks first: the
        // results em-p then sends are late (its executors were given up) and must be refused, not taken as the tasks'.
        var tasks = await NodeLoss.CheckLostTasksRanAgainAsync(_cluster, first.Id, "em-p", tasks: 4, output: o => o.StartsWith("executor ", StringComparison.Ordinal));
        Assert.All(tasks, t => Assert.True(!paused.Any(e => Text(t.Output).StartsWith($"executor {e} ", StringComparison.Ordinal)),
            $"task {t.Id} ended with the late result of paused executor {Text(t.Output)} (em-p's executors: {string.Join(", ", paused)}): {Describe(t.Events)}"));
        await _cluster.UntilAsync(
            () => Task.FromResult(paused.All(e => victim.Output.Any(l => l.Contains(e, StringComparison.Ordinal)
                && (l.Contains("refused", StringComparison.Ordinal) || l.Contains("does not know", StringComparison.Ordinal))))),
            $"em-p to log that the gateway refused its executors {string.Join(", ", paused)} once resumed", TimeSpan.FromSeconds(30),
            () => Task.FromResult(victim.Tail(30)));
        await _cluster.Client.CloseSessionAsync(first.Id);
        await NodeLoss.WaitUntilNodeIsAsync(_cluster, "em-p", NodeState.Ready);

        // Back from the pause, the node's two slots serve a new session again.
        var app = await _cluster.RegisterTestApplicationAsync("after-pause");
        var second = await _cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        await _cluster.Client.CreateTasksAsync(second.Id, Enumerable.Range(1, 8).Select(_ => "sleep:2000"));
        await _cluster.UntilAsync(
            async () => (await ExecutorsOfAsync(_cluster.Client, second.Id)).Any(e => e.Node == "em-p" && e.State == ExecutorState.Bound),
            "an executor of em-p to be bound to a new session after em-p resumed",
            TimeSpan.FromSeconds(30),
            async () => $"executors: {await NodeLoss.DescribeExecutorsAsync(_cluster)}");
        await _cluster.WaitUntilAllTerminalAsync(second.Id, 8);
        var after = await _cluster.Client.CheckTasksAsync(second.Id, 8);
        Assert.All(after, t => Assert.True(t.State == TaskState.Succeed, $"task {t.Id}: {t.State}: {Describe(t.Events)}"));
        await _cluster.Client.CloseSessionAsync(second.Id);
    }

    [Fact]
    public async Task ExecutorManagersThatDisappear_AreNotReportedAsServerFaults()
    {
        // Whether the gateway sees the broken stream as a failed read or as a cancelled call depends on timing:
        // three nodes make the first outcome all but certain.
        var nodes = Enumerable.Range(1, 3).Select(i => $"em-gone{i}-{Guid.NewGuid().ToString("N")[..6]}").ToList();
        var processes = await Task.WhenAll(nodes.Select(node =>
            _cluster.StartExecutorManagerAsync(node, slots: 1, ClusterSettings.ExecutorManager(taskTimeout: null))));

        foreach (var process in processes)
            process.Kill();
        foreach (var node in nodes)
            await NodeLoss.WaitUntilNodeIsAsync(_cluster, node, NodeState.NotReady);

        // A node whose connection breaks is an everyday event for the gateway (the heartbeat timeout deals with it),
        // not an INTERNAL error logged with a stack trace.
        var faults = _cluster.SessionManager.Output.Where(l => l.Contains("WatchNode", StringComparison.Ordinal)
            && (l.Contains("server fault", StringComparison.Ordinal) || l.Contains("'Internal'", StringComparison.Ordinal))).ToList();
        Assert.True(faults.Count == 0,
            $"the broken WatchNode streams of the killed nodes were logged as server faults:\n{string.Join("\n", faults.Select(f => f.Length > 400 ? f[..400] + "…" : f))}");
    }
}

/// <summary>
/// An executor manager stopped with SIGTERM while its services run tasks: it stops its services and leaves, and every
/// task ends once, Succeed, on the other nodes. The attempt count is documented (README, "The executor manager"):
/// a task that was running on the stopped node counts one failed attempt and runs again; one it held unstarted
/// goes back without an attempt.
/// </summary>
[Collection(NodeFaultCollection.Name)]
public sealed class ExecutorManagerStopTests(NodeFaultFixture fixture)
{
    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task SigtermWithTasksRunning_EachTaskEndsOnce_ThoseItRanWithOneLostAttempt()
    {
        var node = $"em-stop-{Guid.NewGuid().ToString("N")[..6]}";
        var stopped = await _cluster.StartExecutorManagerAsync(node, slots: 2, ClusterSettings.ExecutorManager(taskTimeout: null));
        var app = await _cluster.RegisterTestApplicationAsync("sigterm-node");
        var session = await _cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        const int tasks = 12;
        await _cluster.Client.CreateTasksAsync(session.Id, Enumerable.Range(1, tasks).Select(_ => "who:6000"));
        SessionInfo? seen = null;
        await _cluster.UntilAsync(
            async () =>
            {
                seen = await _cluster.Client.GetSessionAsync(session.Id);
                var onNode = (await ExecutorsOfAsync(_cluster.Client, session.Id)).Count(e => e.Node == node && e.State == ExecutorState.Bound);
                return seen.Status.Running >= 6 && seen.Status.Succeed == 0 && onNode == 2;
            },
            $"six running tasks (every slot), two on {node}, none finished", TasksTimeout,
            async () => $"{Describe(seen)}; executors: {await NodeLoss.DescribeExecutorsAsync(_cluster)}");
        var executors = (await ExecutorsOfAsync(_cluster.Client, session.Id)).Where(e => e.Node == node).Select(e => e.Id).ToList();

        stopped.Terminate();
        var exit = await stopped.WaitForExitAsync(TimeSpan.FromSeconds(60), $"{node} to stop after SIGTERM");
        Assert.True(exit == 0, $"{node} exited with {exit}{stopped.Tail()}");

        await _cluster.WaitUntilAllTerminalAsync(session.Id, tasks);
        var all = await _cluster.Client.CheckTasksAsync(session.Id, tasks);
        Assert.All(all, t => Assert.True(t.State == TaskState.Succeed && !executors.Any(e => Text(t.Output).StartsWith($"executor {e} ", StringComparison.Ordinal)),
            $"task {t.Id} should have succeeded on another node, is {t.State} with {Text(t.Output)}: {Describe(t.Events)}"));
        static int Attempts(TaskInfo t) => t.Events.Count(e => e.Code == (int)TaskState.Pending && e.Message is { } m && m.Contains("attempt ", StringComparison.Ordinal) && m.Contains(" failed", StringComparison.Ordinal));
        var events = string.Join(" / ", all.Select(t => $"{t.Id}: {Describe(t.Events)}"));
        Assert.True(all.All(t => Attempts(t) <= 1) && all.Count(t => Attempts(t) == 1) == 2,
            $"exactly the two tasks running on {node} should have lost one attempt each; events: {events}");
        await _cluster.Client.CloseSessionAsync(session.Id);
    }
}

/// <summary>
/// A node that registered but never opened its WatchNode stream (an executor manager that stopped between the two
/// calls; every executor manager passes through this state for a moment at each start), played by a plain
/// flame.v1 Backend client.
/// </summary>
[Collection(NodeFaultCollection.Name)]
public sealed class SilentNodeTests(NodeFaultFixture fixture)
{
    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task NodeThatCannotTakeExecutors_IsNotAskedAgainAndAgain()
    {
        var ghost = $"ghost-{Guid.NewGuid().ToString("N")[..6]}";
        using (var channel = GrpcChannel.ForAddress(_cluster.Endpoint))
        {
            var backend = new V1.Backend.BackendClient(channel);
            // Many free slots, so that the scheduler prefers it to the real nodes.
            var resources = new V1.ResourceRequirement { Cpu = 16, Memory = 1L << 34 };
            await backend.RegisterNodeAsync(new V1.RegisterNodeRequest
            {
                Node = new V1.Node
                {
                    Metadata = new V1.Metadata { Id = ghost, Name = ghost },
                    Spec = new V1.NodeSpec { Hostname = ghost },
                    Status = new V1.NodeStatus { State = V1.NodeState.Ready, Capacity = resources, Allocatable = resources },
                },
            });
        }
        // Without a WatchNode stream nobody can tell the node to create executors: the cluster shows it NotReady.
        await NodeLoss.WaitUntilNodeIsAsync(_cluster, ghost, NodeState.NotReady);

        // More work than idle executors can take: the scheduler wants new executors and the ghost has the most room.
        var app = await _cluster.RegisterTestApplicationAsync("ghost");
        var session = await _cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        await _cluster.Client.CreateTasksAsync(session.Id, Enumerable.Range(1, 12).Select(i => $"echo:{i}"));
        await _cluster.WaitUntilAllTerminalAsync(session.Id, 12);
        var tasks = await _cluster.Client.CheckTasksAsync(session.Id, 12);
        Assert.All(tasks, t => Assert.True(t.State == TaskState.Succeed, $"task {t.Id}: {t.State}: {Describe(t.Events)}"));
        await _cluster.Client.CloseSessionAsync(session.Id);

        // Each refusal costs a CreateExecutor round and an executor grain; a refusing node must not be asked in a loop.
        var refusals = _cluster.SessionManager.Output.Count(l => l.Contains($"node '{ghost}' could not take it", StringComparison.Ordinal));
        Assert.True(refusals <= 3,
            $"the scheduler asked node {ghost}, which has no WatchNode stream, for an executor {refusals} times in "
            + $"{FailoverFixture.NodeHeartbeatTimeoutSeconds}s (until its heartbeat timeout)");
    }
}

/// <summary>The steps the node-loss scenarios share.</summary>
internal static class NodeLoss
{
    /// <summary>
    /// A session of <paramref name="tasks"/> <paramref name="input"/> tasks (8 s each) (as many as the 4 slots), returned once all of
    /// them run at the same time, two on <paramref name="node"/>: each executor then holds exactly one task (an
    /// executor between two tasks would lose nothing with its node), and the 8 s leave room for slow service starts.
    /// </summary>
    public static async Task<SessionInfo> StartBusySessionAsync(FlameCluster cluster, string node, int tasks, string input = "sleep:8000")
    {
        var client = cluster.Client;
        Assert.Equal(NodeState.Ready, await cluster.NodeStateAsync(node));
        // Every slot free first: an executor still serving an earlier test's session (delay_release) would leave
        // fewer than four slots for this one, and its four tasks would never all run at once.
        await cluster.UntilAsync(
            async () =>
            {
                await foreach (var e in client.ListExecutorsAsync())
                    if (e.SessionId is not null && e.State is ExecutorState.Binding or ExecutorState.Bound or ExecutorState.Unbinding)
                        return false;
                return true;
            },
            "no executor to serve an earlier session", TasksTimeout,
            async () => $"executors: {await DescribeExecutorsAsync(cluster)}");
        var app = await cluster.RegisterTestApplicationAsync("node-loss");
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, tasks).Select(_ => input));

        SessionInfo? seen = null;
        await cluster.UntilAsync(
            async () =>
            {
                seen = await client.GetSessionAsync(session.Id);
                var onNode = (await ExecutorsOfAsync(client, session.Id)).Count(e => e.Node == node && e.State == ExecutorState.Bound);
                return seen.Status.Running >= 4 && seen.Status.Succeed == 0 && onNode == 2;
            },
            $"4 running tasks, two of them on {node}, none finished yet",
            TasksTimeout,
            async () => $"{Describe(seen)}; executors: {await DescribeExecutorsAsync(cluster)}");
        return session;
    }

    public static Task WaitUntilNodeIsAsync(FlameCluster cluster, string node, NodeState state) =>
        cluster.UntilAsync(
            async () => await cluster.NodeStateAsync(node) == state,
            $"node {node} to be {state} (heartbeat timeout {FailoverFixture.NodeHeartbeatTimeoutSeconds}s)",
            TimeSpan.FromSeconds(30),
            async () => $"{node} is {await cluster.NodeStateAsync(node)}");

    /// <summary>
    /// Every task succeeded; the ones <paramref name="node"/> was running were lost with it, counted as a failed
    /// attempt, and run again; none is left Running. Returns the tasks.
    /// </summary>
    /// <param name="output">What a task's output must satisfy (default: <c>slept</c>).</param>
    public static async Task<IReadOnlyList<TaskInfo>> CheckLostTasksRanAgainAsync(FlameCluster cluster, string sessionId, string node, int tasks,
        Func<string, bool>? output = null)
    {
        output ??= o => o == "slept";
        await cluster.WaitUntilAllTerminalAsync(sessionId, tasks);
        var all = await cluster.Client.CheckTasksAsync(sessionId, tasks);
        Assert.All(all, t => Assert.True(t.State == TaskState.Succeed && output(Text(t.Output)),
            $"task {t.Id} should have succeeded, is {t.State} with {Text(t.Output)}: {Describe(t.Events)}"));
        bool Requeued(TaskInfo t, string why) => t.Events.Any(e =>
            e.Code == (int)TaskState.Pending && e.Message is { } m && m.Contains(why, StringComparison.Ordinal) && m.Contains(node, StringComparison.Ordinal));
        var lost = all.Where(t => Requeued(t, "attempt 1 of")).ToList();
        Assert.True(lost.Count >= 2,
            $"the two tasks running on {node} should have been run again; events: {string.Join(" / ", all.Select(t => $"{t.Id}: {Describe(t.Events)}"))}");
        // Handed twice: either it ran on the lost node (an attempt), or it waited in that executor's window and went
        // back unstarted (no attempt).
        Assert.All(all.Where(t => t.Events.Count(e => e.Code == (int)TaskState.Running) > 1), t =>
            Assert.True(Requeued(t, "attempt 1 of") || Requeued(t, "returned unstarted"), $"task {t.Id}: {Describe(t.Events)}"));
        return all;
    }

    public static async Task<string> DescribeExecutorsAsync(FlameCluster cluster)
    {
        var executors = new List<string>();
        await foreach (var e in cluster.Client.ListExecutorsAsync())
            executors.Add($"{e.Id} {e.State} {e.SessionId}");
        return string.Join(", ", executors);
    }
}
