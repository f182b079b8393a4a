using Flame.Grains.Hosting;
using Flame.Storage;
using Flame.Storage.Memory;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Flame.Grains.Tests;

/// <summary>
/// A cluster stopped and started again over the same task store: sessions, tasks and applications come back as they
/// were acknowledged, and a task that was running when the cluster stopped runs again as a new attempt.
/// </summary>
public sealed class SessionRestoreTests
{
    // Silos are in-process: each test's clusters find their store here by cluster id.
    private static readonly Dictionary<string, ITaskStore> Stores = [];

    private static async Task<TestCluster> StartClusterAsync(string storeKey)
    {
        var builder = new TestClusterBuilder(initialSilosCount: 1);
        builder.Properties["store"] = storeKey;
        builder.AddSiloBuilderConfigurator<Configurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class Configurator : IHostConfigurator
    {
        public void Configure(Microsoft.Extensions.Hosting.IHostBuilder host) => host.ConfigureServices((context, services) =>
        {
            ITaskStore store;
            lock (Stores)
                store = Stores[context.Configuration["store"]!];
            services.AddSingleton(store);
            services.AddFlameGrains(ClusterFixture.Limits, ClusterFixture.Execution);
        });
    }

    [Fact]
    public async Task Restart_RestoresTasksAsAcknowledged_AndRunsTheInterruptedOneAgain()
    {
        var key = Guid.NewGuid().ToString("N");
        lock (Stores)
            Stores[key] = new MemoryTaskStore();
        const string app = "restore-app";
        const string sessionId = "restore-session";

        await using (var first = await StartClusterAsync(key))
        {
            await first.Client.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
                .RegisterAsync(app, new ApplicationSpec { Command = "/bin/true" });
            var session = first.Client.GetGrain<ISessionGrain>(sessionId);
            await session.CreateAsync(new SessionSpec { Application = app, CommonData = [1, 2, 3] });
            await session.CreateTasksAsync([[10], [20], [30]]);
            await session.AttachExecutorAsync("e-1");
            var one = await session.LaunchTaskAsync("e-1");
            Assert.Equal(1, one.Item!.Id);
            await session.CompleteTaskAsync("e-1", new TaskResultInfo { Output = [11] });
            var two = await session.LaunchTaskAsync("e-1");
            Assert.Equal(2, two.Item!.Id);
            // Task 2 runs when the cluster stops. Reading the session waits for everything above to be durable.
            Assert.Equal(1, (await session.GetAsync()).Status.Running);
            await first.StopAllSilosAsync();
        }

        await using var second = await StartClusterAsync(key);
        var restored = second.Client.GetGrain<ISessionGrain>(sessionId);
        var view = await restored.GetAsync();
        Assert.Equal(SessionState.Open, view.Status.State);
        Assert.Equal([1, 2, 3], view.Spec.CommonData);
        Assert.Equal((0, 1, 2), (view.Status.Running, view.Status.Succeed, view.Status.Pending));
        Assert.Contains(view.Status.Events, e => e.Code == SessionEventCodes.Restored && e.Message!.Contains("1 running task(s) lost an attempt"));

        var done = await restored.GetTaskAsync(1);
        Assert.Equal(TaskState.Succeed, done.State);
        Assert.Equal([10], done.Input);
        Assert.Equal([11], done.Output);
        var interrupted = await restored.GetTaskAsync(2);
        Assert.Equal(TaskState.Pending, interrupted.State);
        Assert.Equal([20], interrupted.Input);
        Assert.Contains(interrupted.Events, e => e.Code == (int)TaskState.Pending && e.Message!.Contains("attempt 1 of 3 failed"));

        // The interrupted task runs again, after the one that was pending before it (it went back to the queue's end).
        await restored.AttachExecutorAsync("e-2");
        Assert.Equal(3, (await restored.LaunchTaskAsync("e-2")).Item!.Id);
        await restored.CompleteTaskAsync("e-2", new TaskResultInfo { Output = [31] });
        Assert.Equal(2, (await restored.LaunchTaskAsync("e-2")).Item!.Id);
        await restored.CompleteTaskAsync("e-2", new TaskResultInfo { Output = [21] });
        var again = await restored.GetTaskAsync(2);
        Assert.Equal(TaskState.Succeed, again.State);
        Assert.Equal([21], again.Output);

        // The application came back too.
        var application = await second.Client.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key).GetAsync(app);
        Assert.Equal("/bin/true", application.Spec.Command);
    }

    [Fact]
    public async Task LargePayloadsOfFinishedTasks_AreReadFromTheStore_BeforeAndAfterARestart()
    {
        var key = Guid.NewGuid().ToString("N");
        var store = new MemoryTaskStore();
        lock (Stores)
            Stores[key] = store;
        const string sessionId = "payloads";
        var threshold = ClusterFixture.Limits.FinishedPayloadInMemoryBytes;
        byte[] Large(byte value) => Enumerable.Repeat(value, threshold).ToArray();

        // Changes the store's copy behind the grain's back: a read that shows it came from the store, not from memory.
        async Task RewriteInStoreAsync(long taskId, byte[] input, byte[] output)
        {
            var stored = await store.LoadTaskAsync(sessionId, taskId);
            await store.WriteTasksAsync(sessionId, [stored! with { Input = input, Output = output }]);
        }

        await using (var first = await StartClusterAsync(key))
        {
            await first.Client.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
                .RegisterAsync("payload-app", new ApplicationSpec { Command = "/bin/true" });
            var session = first.Client.GetGrain<ISessionGrain>(sessionId);
            await session.CreateAsync(new SessionSpec { Application = "payload-app" });
            await session.CreateTasksAsync([Large(1), [1]]);
            await session.AttachExecutorAsync("e-1");
            Assert.Equal(1, (await session.LaunchTaskAsync("e-1")).Item!.Id);
            await session.CompleteTaskAsync("e-1", new TaskResultInfo { Output = Large(2) });
            Assert.Equal(2, (await session.LaunchTaskAsync("e-1")).Item!.Id);
            await session.CompleteTaskAsync("e-1", new TaskResultInfo { Output = [2] });
            // Reading the session waits for the results to be durable; then the large ones leave the grain's memory.
            Assert.Equal(2, (await session.GetAsync()).Status.Succeed);
            var before = await session.GetTaskAsync(1);
            Assert.Equal(Large(1), before.Input);
            Assert.Equal(Large(2), before.Output);

            await RewriteInStoreAsync(1, Large(3), Large(4));
            await RewriteInStoreAsync(2, [8], [9]);
            var large = await session.GetTaskAsync(1);
            Assert.Equal(TaskState.Succeed, large.State);
            Assert.Equal(Large(3), large.Input);
            Assert.Equal(Large(4), large.Output);
            var small = await session.GetTaskAsync(2);
            // Small payloads stay in memory.
            Assert.Equal([1], small.Input);
            Assert.Equal([2], small.Output);
            var page = await session.ListTasksAsync(0, 10);
            Assert.Equal([Large(4), [2]], page.Tasks.Select(t => t.Output));
            Assert.Equal([Large(3), [1]], page.Tasks.Select(t => t.Input));
            await first.StopAllSilosAsync();
        }

        // Restored: finished tasks' large payloads are not loaded into memory either.
        await using var second = await StartClusterAsync(key);
        var restored = second.Client.GetGrain<ISessionGrain>(sessionId);
        Assert.Equal(Large(4), (await restored.GetTaskAsync(1)).Output);
        await RewriteInStoreAsync(1, Large(5), Large(6));
        var reread = await restored.GetTaskAsync(1);
        Assert.Equal(Large(5), reread.Input);
        Assert.Equal(Large(6), reread.Output);
        Assert.Equal([8], (await restored.GetTaskAsync(2)).Input); // small: restored into memory from the store
    }

    [Fact]
    public async Task DeletedSession_StaysDeleted_AcrossARestart()
    {
        var key = Guid.NewGuid().ToString("N");
        var store = new MemoryTaskStore();
        lock (Stores)
            Stores[key] = store;

        await using (var first = await StartClusterAsync(key))
        {
            await first.Client.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
                .RegisterAsync("gone-app", new ApplicationSpec { Command = "/bin/true" });
            var session = first.Client.GetGrain<ISessionGrain>("gone");
            await session.CreateAsync(new SessionSpec { Application = "gone-app" });
            await session.CreateTasksAsync([[1], [2]]);
            await session.CloseAsync();
            await session.DeleteAsync();
            await first.StopAllSilosAsync();
        }

        Assert.Null(await store.LoadSessionAsync("gone"));
        Assert.Null(await store.LoadTaskAsync("gone", 1));
        await using var second = await StartClusterAsync(key);
        var error = await Assert.ThrowsAsync<FlameException>(() => second.Client.GetGrain<ISessionGrain>("gone").GetAsync());
        Assert.Equal(FlameErrorKind.NotFound, error.Kind);
    }
}
