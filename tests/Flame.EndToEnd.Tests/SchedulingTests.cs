using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>The scheduler with real executor managers and services: priority with preemption, fair sharing, delay_release.</summary>
[Collection(SchedulingCollection.Name)]
public sealed class SchedulingTests(SchedulingFixture fixture)
{
    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task HighPriority_TakesExecutorsFromLowPriority_AtTaskBoundaries_WithoutKillingARunningTask()
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync("preempt");
        var low = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, Priority = 0 });
        await client.CreateTasksAsync(low.Id, Enumerable.Range(1, 100).Select(_ => (byte[]?)Utf8("sleep:1000")).ToList());
        await _cluster.UntilAsync(
            async () => (await ExecutorsOfAsync(client, low.Id)).Count(e => e.State == ExecutorState.Bound) == 4,
            "the low-priority session to hold all 4 executors", TasksTimeout);

        var high = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, Priority = 10 });
        await client.CreateTasksAsync(high.Id, Enumerable.Range(1, 6).Select(i => (byte[]?)Utf8($"echo:{i}")).ToList());
        await _cluster.WaitUntilAllTerminalAsync(high.Id, 6);

        // The high-priority session finished while the low one still had work: it did not wait for it.
        var lowNow = await client.GetSessionAsync(low.Id);
        Assert.True(lowNow.Status.Pending > 0, $"the low-priority session should still have pending tasks: {Describe(lowNow)}");
        Assert.All(await client.CheckTasksAsync(high.Id, 6), t => Assert.Equal(TaskState.Succeed, t.State));
        Assert.Contains((await client.GetSessionAsync(high.Id)).Status.Events, e => e.Code == SessionEventCodes.ExecutorAssigned);
        Assert.Contains(lowNow.Status.Events, e => e.Code == SessionEventCodes.ExecutorPreempted
            && e.Message!.Contains($"preempted for session '{high.Id}'", StringComparison.Ordinal));

        // No task of the low-priority session was interrupted: each ran once, or never.
        await client.CloseSessionAsync(low.Id);
        await _cluster.WaitUntilAllTerminalAsync(low.Id, 100);
        foreach (var task in await client.CheckTasksAsync(low.Id, 100))
        {
            var runs = task.Events.Count(e => e.Code == (int)TaskState.Running);
            Assert.True(task.State == TaskState.Succeed ? runs == 1 : task.State == TaskState.Cancelled && runs == 0,
                $"task {task.Id} of the low-priority session should have run once to success or never: {task.State}, {Describe(task.Events)}");
        }
        await client.CloseSessionAsync(high.Id);
    }

    [Fact]
    public async Task TwoSessionsOfEqualPriority_ShareTheExecutorsEvenly_AndKeepSharingFor10Seconds()
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync("share");
        var first = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        var second = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        // Enough work for both to outlast the scheduler's hysteresis and the 10 s of sampling: whichever session the
        // first pass favoured gives executors back only once they have been bound for 10 s
        // (SchedulingOptions.MinBoundTime); 200 tasks of 0.5 s on 2 executors last 50 s.
        await client.CreateTasksAsync(first.Id, Enumerable.Range(1, 200).Select(_ => (byte[]?)Utf8("sleep:500")).ToList());
        await client.CreateTasksAsync(second.Id, Enumerable.Range(1, 200).Select(_ => (byte[]?)Utf8("sleep:500")).ToList());

        async Task<(int First, int Second)> SharesAsync() =>
            ((await ExecutorsOfAsync(client, first.Id)).Count(e => e.State == ExecutorState.Bound),
             (await ExecutorsOfAsync(client, second.Id)).Count(e => e.State == ExecutorState.Bound));

        var seen = "";
        await _cluster.UntilAsync(
            async () =>
            {
                var (a, b) = await SharesAsync();
                seen = $"{a} and {b}";
                return a == 2 && b == 2;
            },
            "the 4 executors to be shared 2 and 2", TasksTimeout, () => Task.FromResult(seen));

        // Fair once is not fair: the share must hold while both sessions still have work (a sample every 250 ms).
        var samples = new List<string>();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(250))
        {
            var (a, b) = await SharesAsync();
            samples.Add($"{clock.Elapsed.TotalSeconds:0.0}s: {a}/{b}");
            Assert.True(a == 2 && b == 2, $"the share did not hold: {string.Join(", ", samples)}");
        }
        var left = (await client.GetSessionAsync(first.Id)).Status.Pending + (await client.GetSessionAsync(second.Id)).Status.Pending;
        Assert.True(left > 0, "both sessions should still have had work while the share was sampled");
        await client.CloseSessionAsync(first.Id);
        await client.CloseSessionAsync(second.Id);
    }

    [Fact]
    public async Task DelayRelease_KeepsTheServiceWarmBetweenBursts_ThenUnbindsWithAReason()
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync("warm", delayRelease: 4);
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 2 });

        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, 6).Select(_ => (byte[]?)Utf8("pid")).ToList());
        await _cluster.WaitUntilAllTerminalAsync(session.Id, 6);
        // Well within delay_release: a second burst.
        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, 6).Select(_ => (byte[]?)Utf8("pid")).ToList());
        await _cluster.WaitUntilAllTerminalAsync(session.Id, 12);

        // The second burst ran (at least in part) on a service process of the first: it stayed bound and warm. No
        // more processes entered the session than max_instances, so none was started again for the second burst.
        // (The second executor may enter only after both bursts are done: starting a service takes longer than
        // twelve tiny tasks, so it can enter without running any.)
        var tasks = await client.CheckTasksAsync(session.Id, 12);
        var firstBurst = tasks.Where(t => t.Id <= 6).Select(t => Text(t.Output)).ToHashSet();
        var secondBurst = tasks.Where(t => t.Id > 6).Select(t => Text(t.Output)).ToHashSet();
        Assert.True(firstBurst.Overlaps(secondBurst),
            $"expected a service of the first burst (pids {string.Join(", ", firstBurst)}) to serve the second (pids {string.Join(", ", secondBurst)})");
        var enters = app.Calls().Count(c => c.StartsWith($"enter {session.Id} ", StringComparison.Ordinal));
        Assert.InRange(enters, firstBurst.Union(secondBurst).Count(), 2);

        // Then, with no work, the executors leave, and the session says why.
        await _cluster.WaitUntilNoExecutorServesAsync(session.Id);
        var events = (await client.GetSessionAsync(session.Id)).Status.Events;
        Assert.Contains(events, e => e.Code == SessionEventCodes.ExecutorUnbound && e.Message!.Contains("delay_release (4s)", StringComparison.Ordinal));
        await client.CloseSessionAsync(session.Id);
    }

    [Fact]
    public async Task EachSessionOfAnApplication_GetsAFreshServiceProcess_ByDefault()
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync("fresh", delayRelease: 1);
        var first = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 1 });
        await client.CreateTasksAsync(first.Id, [Utf8("pid")]);
        await _cluster.WaitUntilAllTerminalAsync(first.Id, 1);
        var firstPid = int.Parse(Text((await client.CheckTasksAsync(first.Id, 1))[0].Output), System.Globalization.CultureInfo.InvariantCulture);
        await client.CloseSessionAsync(first.Id);
        await _cluster.WaitUntilNoExecutorServesAsync(first.Id);
        // The service left the session and was stopped: nothing is kept for the next session.
        await _cluster.UntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{firstPid}")),
            $"the first session's service process (pid {firstPid}) to be stopped once it left the session", TimeSpan.FromSeconds(15));

        var second = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 1 });
        await client.CreateTasksAsync(second.Id, [Utf8("pid")]);
        await _cluster.WaitUntilAllTerminalAsync(second.Id, 1);

        var secondPid = Text((await client.CheckTasksAsync(second.Id, 1))[0].Output);
        Assert.NotEqual(firstPid.ToString(System.Globalization.CultureInfo.InvariantCulture), secondPid);
        var assigned = (await client.GetSessionAsync(second.Id)).Status.Events.Where(e => e.Code == SessionEventCodes.ExecutorAssigned);
        Assert.DoesNotContain(assigned, e => e.Message!.Contains("last served application", StringComparison.Ordinal));
        await client.CloseSessionAsync(second.Id);
    }

    [Fact]
    public async Task AnExecutorThatLeftASession_EntersTheNextSessionOfItsApplication_WithTheSameServiceProcess_WhenTheApplicationOptsIn()
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync("reuse", delayRelease: 1, labels: [ApplicationLabels.ReuseServices]);
        var first = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 1 });
        await client.CreateTasksAsync(first.Id, [Utf8("pid")]);
        await _cluster.WaitUntilAllTerminalAsync(first.Id, 1);
        await client.CloseSessionAsync(first.Id);
        // Unbound (the service left the session); the executor is idle with its service still running.
        await _cluster.WaitUntilNoExecutorServesAsync(first.Id);

        var second = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 1 });
        await client.CreateTasksAsync(second.Id, [Utf8("pid")]);
        await _cluster.WaitUntilAllTerminalAsync(second.Id, 1);

        var before = Text((await client.CheckTasksAsync(first.Id, 1))[0].Output);
        var after = Text((await client.CheckTasksAsync(second.Id, 1))[0].Output);
        Assert.True(before == after, $"expected the second session to run on the first one's service process (pid {before}), but it ran on pid {after}");
        // One process: it left the first session and entered the second, with no start in between (and it may have
        // left the second already: delay_release is 1 s).
        Assert.Equal([$"enter {first.Id} 0", "invoke 1", "leave", $"enter {second.Id} 0", "invoke 1"], app.Calls().Take(5));
        var assigned = (await client.GetSessionAsync(second.Id)).Status.Events.Where(e => e.Code == SessionEventCodes.ExecutorAssigned);
        Assert.Contains(assigned, e => e.Message!.Contains($"last served application '{app.Name}'", StringComparison.Ordinal));
        await client.CloseSessionAsync(second.Id);
    }
}
