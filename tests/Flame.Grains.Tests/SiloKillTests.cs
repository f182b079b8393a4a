using System.Collections.Concurrent;
using System.Diagnostics;
using Flame.Storage.Memory;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Flame.Grains.Tests;

/// <summary>
/// The silo that hosts a grain under test is killed (<see cref="Orleans.TestingHost.TestCluster.KillSiloAsync"/>)
/// while a client works with it: what was acknowledged comes back on the other silo from the task store, a task that
/// ran there runs again as a new attempt, and the client is served again within a bound set by the membership.
/// </summary>
public sealed class SiloKillTests(ITestOutputHelper output)
{
    /// <summary>The kill comes in the continuation of an acknowledgement, or at a seeded random moment of the run.</summary>
    public enum KillPoint
    {
        RightAfterAnAcknowledgement,
        AtARandomMoment,
    }

    [Theory]
    [InlineData(1, KillPoint.RightAfterAnAcknowledgement)]
    [InlineData(2, KillPoint.AtARandomMoment)]
    [InlineData(3, KillPoint.AtARandomMoment)]
    public async Task KillingTheSilo_ThatHostsTheSession_WhileAClientCreatesTasks_LosesNoAcknowledgedTask_AndRunsTheInterruptedOneAgain(
        int seed, KillPoint point)
    {
        var random = new Random(seed);
        await using var cluster = await TwoSiloCluster.StartAsync(new MemoryTaskStore(), TimeSpan.FromMilliseconds(10));
        const string app = "kill-app";
        await cluster.Gateway.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
            .RegisterAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var victim = cluster.Secondary;
        var (sessionId, session) = await cluster.PlaceAsync<ISessionGrain>(
            Enumerable.Range(1, int.MaxValue).Select(i => $"kill-{seed}-{i}"), victim,
            g => g.CreateAsync(new SessionSpec { Application = app, CommonData = [1, 2, 3] }));
        await session.CreateTasksAsync([Input(1), Input(2), Input(3)]);
        await session.AttachExecutorAsync("e-1");
        Assert.Equal(1, (await session.LaunchTaskAsync("e-1")).Item!.Id);
        await session.CompleteTaskAsync("e-1", new TaskResultInfo { Output = [11] });
        Assert.Equal(2, (await session.LaunchTaskAsync("e-1")).Item!.Id);
        // Task 2 runs when the silo dies. Reading the session waits for everything above to be durable.
        Assert.Equal(1, (await session.GetAsync()).Status.Running);

        // The client goes on creating tasks, one call at a time, through the kill and after it.
        var acknowledged = new ConcurrentDictionary<int, long>(); // input -> task id
        var errors = new ConcurrentQueue<Exception>();
        var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killAfter = random.Next(5, 40);
        var killed = Stopwatch.StartNew();
        var servedAgain = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var wasKilled = false;
        var inFlight = 0;
        var creator = Task.Run(async () =>
        {
            // After the kill: 20 creates acknowledged by the new activation, then the client stops.
            for (int input = 100, afterKill = 0; afterKill < 20; input++)
            {
                try
                {
                    Volatile.Write(ref inFlight, input);
                    // Bounded (see CallDeadline).
                    acknowledged[input] = (await session.CreateTaskAsync(Input(input)).WaitAsync(CallDeadline)).Id;
                    if (acknowledged.Count == killAfter)
                        killNow.TrySetResult();
                    if (Volatile.Read(ref wasKilled) && afterKill++ == 0)
                        servedAgain.TrySetResult(killed.Elapsed);
                }
                catch (Exception ex) when (Documented(ex))
                {
                    errors.Enqueue(ex);
                }
            }
        });

        await killNow.Task.WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(30)));
        var delay = point == KillPoint.AtARandomMoment ? random.Next(0, 200) : 0;
        output.WriteLine($"seed {seed}: session {sessionId} on {victim.SiloAddress}; kill {point} after {killAfter} creates (+{delay} ms)");
        if (delay > 0)
            await Task.Delay(delay); // the random moment of the kill, not a wait for a state
        await cluster.KillAsync(victim);
        killed.Restart();
        Volatile.Write(ref wasKilled, true);

        // Served again within what the membership allows; then a few more creates on the new activation.
        var served = await Task.WhenAny(servedAgain.Task, creator, Task.Delay(TwoSiloCluster.RecoveryBound + TimeSpan.FromSeconds(30)));
        if (served == creator)
            await creator; // it failed: an error no client of a dying silo should see
        if (served != servedAgain.Task)
        {
            var hosts = await cluster.Gateway.GetGrain<IManagementGrain>(0).GetHosts();
            Assert.Fail($"not served again {killed.Elapsed.TotalSeconds:0}s after the kill; membership: "
                + string.Join(", ", hosts.Select(h => $"{h.Key} {h.Value}")) + $"; create of input {Volatile.Read(ref inFlight)} in flight, {acknowledged.Count} acknowledged; errors: {string.Join(" | ", errors.Select(e => e.GetType().Name + ": " + e.Message))}");
        }
        var recovery = await servedAgain.Task;
        await creator.WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(30)));
        output.WriteLine($"served again {recovery.TotalSeconds:0.0}s after the kill; {acknowledged.Count} creates acknowledged, "
            + $"{errors.Count} failed: {string.Join(", ", errors.GroupBy(e => e.GetType().Name).Select(g => $"{g.Count()} {g.Key}"))}");
        Assert.True(recovery <= CallDeadline + TwoSiloCluster.RecoveryBound,
            $"the client was served again {recovery.TotalSeconds:0.0}s after the kill, the bound is {(CallDeadline + TwoSiloCluster.RecoveryBound).TotalSeconds}s");
        // Only the calls that were in flight to the killed silo fail: one at a time here.
        Assert.True(errors.Count(e => e is TimeoutException) <= 1, $"{errors.Count(e => e is TimeoutException)} calls went unanswered");
        Assert.NotEqual(victim.SiloAddress, cluster.HostOf(session));

        var view = await session.GetAsync();
        Assert.Equal(SessionState.Open, view.Status.State);
        Assert.Equal([1, 2, 3], view.Spec.CommonData);
        Assert.Contains(view.Status.Events, e => e.Code == SessionEventCodes.Restored && e.Message!.Contains("1 running task(s) lost an attempt"));

        // Every acknowledged create is there once, with the id it was acknowledged with; a failed one at most once.
        var tasks = await AllTasksAsync(session);
        Assert.Equal(Enumerable.Range(1, tasks.Count).Select(i => (long)i), tasks.Select(t => t.Id));
        var byInput = tasks.GroupBy(t => BitConverter.ToInt32(t.Input!)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.All(byInput, g => Assert.True(g.Value.Count == 1, $"input {g.Key} is in {g.Value.Count} tasks"));
        Assert.All(acknowledged, a => Assert.True(byInput.TryGetValue(a.Key, out var t) && t[0].Id == a.Value,
            $"create of input {a.Key}, acknowledged as task {a.Value}, is {(byInput.TryGetValue(a.Key, out var found) ? $"task {found[0].Id}" : "lost")}"));

        var done = await session.GetTaskAsync(1);
        Assert.Equal((TaskState.Succeed, 1), (done.State, BitConverter.ToInt32(done.Input!)));
        Assert.Equal([11], done.Output);
        var interrupted = await session.GetTaskAsync(2);
        Assert.Equal(TaskState.Pending, interrupted.State);
        Assert.Contains(interrupted.Events, e => e.Code == (int)TaskState.Pending && e.Message!.Contains("attempt 1 of 3 failed"));

        // The interrupted task runs again on the new activation, once.
        await session.AttachExecutorAsync("e-2");
        for (var launched = (await session.LaunchTaskAsync("e-2")).Item; ; launched = (await session.LaunchTaskAsync("e-2")).Item)
        {
            Assert.NotNull(launched);
            await session.CompleteTaskAsync("e-2", new TaskResultInfo { Output = launched.Id == 2 ? [21] : [0] });
            if (launched.Id == 2)
                break;
        }
        var again = await session.GetTaskAsync(2);
        Assert.Equal(TaskState.Succeed, again.State);
        Assert.Equal([21], again.Output);
        Assert.Equal(2, again.Events.Count(e => e.Code == (int)TaskState.Running));

        // The application came back too, wherever its registry lived.
        var application = await cluster.Gateway.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key).GetAsync(app);
        Assert.Equal("/bin/true", application.Spec.Command);
    }

    [Fact]
    public async Task KillingTheSilo_ThatHostsTheScheduler_LosesNoSessionsDemand_TheNewSchedulerOrdersForSessionsOpenBeforeAndAfter()
    {
        await using var cluster = await TwoSiloCluster.StartAsync(new MemoryTaskStore(), TimeSpan.FromMilliseconds(10));
        var survivor = cluster.Cluster.Primary!;
        var victim = cluster.Secondary;
        var scheduler = cluster.Gateway.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key);
        await scheduler.ListNodesAsync();
        if (cluster.HostOf(scheduler) != victim.SiloAddress)
            await cluster.Cluster.MigrateAsync(scheduler, victim.SiloAddress);
        await scheduler.ListNodesAsync();
        Assert.Equal(victim.SiloAddress, cluster.HostOf(scheduler));

        // The sessions and the node live on the silo that survives: only the scheduler (and its view) is lost.
        await cluster.Gateway.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
            .RegisterAsync("sched-app", new ApplicationSpec { Command = "/bin/true" });
        async Task<ISessionGrain> SessionAsync(string prefix) => (await cluster.PlaceAsync<ISessionGrain>(
            Enumerable.Range(1, int.MaxValue).Select(i => $"{prefix}-{i}"), survivor,
            g => g.CreateAsync(new SessionSpec { Application = "sched-app", MaxInstances = 1 }))).Grain;

        // Demand the old scheduler heard of and could not serve (no node yet); reading the session waits for it.
        var before = await SessionAsync("before");
        await before.CreateTasksAsync([Input(1)]);
        await before.GetAsync();
        var killed = Stopwatch.StartNew();
        await cluster.KillAsync(victim);
        // Demand made while the scheduler's silo dies.
        var after = await SessionAsync("after");
        await after.CreateTasksAsync([Input(2)]);

        // A node comes: the new scheduler must order an executor for each session.
        var orders = new NodeOrders();
        var watcher = cluster.Gateway.CreateObjectReference<INodeWatcher>(orders);
        var (nodeName, node) = await cluster.PlaceAsync<INodeGrain>(
            Enumerable.Range(1, int.MaxValue).Select(i => $"kill-node-{i}"), survivor,
            n => n.RegisterAsync(new NodeInfo { Name = n.GetPrimaryKeyString(), Allocatable = new ResourceRequirement { Cpu = 4 } }, []));
        await node.WatchAsync(watcher);
        using var stopBeating = new CancellationTokenSource();
        var beating = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(300));
            while (await timer.WaitForNextTickAsync(stopBeating.Token).ConfigureAwait(false))
                await node.HeartbeatAsync(new NodeInfo { Name = nodeName, Allocatable = new ResourceRequirement { Cpu = 4 } });
        });

        // One pass a second, once the membership has declared the silo dead and a new scheduler has heard again
        // of the open sessions.
        var bound = TwoSiloCluster.RecoveryBound + TimeSpan.FromSeconds(2);
        var ordered = new HashSet<string>();
        try
        {
            while (ordered.Count < 2)
            {
                var order = await orders.Orders.Reader.ReadAsync().AsTask().WaitAsync(bound + TimeSpan.FromSeconds(20) - killed.Elapsed);
                if (order.State == ExecutorState.Void && order.SessionId is { } id)
                    ordered.Add(id);
            }
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{killed.Elapsed.TotalSeconds:0}s after the kill, executors were ordered for [{string.Join(", ", ordered)}] only, "
                + $"not for both {before.GetPrimaryKeyString()} and {after.GetPrimaryKeyString()}");
        }
        output.WriteLine($"both sessions' executors ordered {killed.Elapsed.TotalSeconds:0.0}s after the kill of the scheduler's silo");
        Assert.True(killed.Elapsed <= bound, $"ordered {killed.Elapsed.TotalSeconds:0.0}s after the kill, the bound is {bound.TotalSeconds}s");
        Assert.Equal(survivor.SiloAddress, cluster.HostOf(scheduler));
        await stopBeating.CancelAsync();
        await beating.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private sealed class NodeOrders : INodeWatcher
    {
        public System.Threading.Channels.Channel<ExecutorInfo> Orders { get; } = System.Threading.Channels.Channel.CreateUnbounded<ExecutorInfo>();

        public Task OnExecutorAsync(ExecutorInfo executor)
        {
            Orders.Writer.TryWrite(executor);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// How long the client waits for one call: a call lost with the silo fails the run with a clear message (Orleans
    /// breaks it with a SiloUnavailableException once the membership declares the silo dead) instead of hanging it.
    /// </summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(5);

    /// <summary>
    /// What a direct Orleans client may see while a silo dies, for a call it sent to it (documented by Orleans): the
    /// silo unreachable, the message rejected, or no answer in time. Anything else fails the test.
    /// </summary>
    internal static bool Documented(Exception ex) =>
        ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;

    internal static byte[] Input(int value) => BitConverter.GetBytes(value);

    private static async Task<List<TaskInfo>> AllTasksAsync(ISessionGrain session)
    {
        var tasks = new List<TaskInfo>();
        long after = 0;
        while (true)
        {
            var page = await session.ListTasksAsync(after, 500);
            tasks.AddRange(page.Tasks);
            if (page.NextAfterId is not { } next)
                return tasks;
            after = next;
        }
    }
}
