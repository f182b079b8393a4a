using System.Text;
using Flame.Client;
using Flame.SessionManager.Tests.Support;

namespace Flame.SessionManager.Tests;

/// <summary>The contract in-process: <see cref="OrleansFlameClient"/> calling the grains of the gateway's silo.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OrleansFlameClientTests(GatewayFixture gateway) : FlameClientContract(gateway)
{
    protected override IFlameClient CreateClient() => new OrleansFlameClient(Gateway.Grains);

    [Fact]
    public async Task Watches_SeeEachStateOnce_ThroughRunningAndARetry_EvenWhenTheHubRefreshesAllTheTime()
    {
        // Refreshes re-read and re-register every few milliseconds; they must never repeat or lose a state, on a path
        // that goes Pending, Running, Pending again (the attempt failed), Running, Succeed.
        await using var hub = new TaskWatchHub(Gateway.Grains, new TaskWatchHubOptions { RefreshInterval = TimeSpan.FromMilliseconds(10) });
        await using var client = new OrleansFlameClient(Gateway.Grains, hub);
        var app = Names.Unique("capp");
        await client.RegisterApplicationAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var session = (await client.CreateSessionAsync(null, new SessionSpec { Application = app })).Id;
        var grain = Gateway.Grains.GetGrain<Flame.Grains.ISessionGrain>(session);
        const int tasks = 20;
        for (var i = 0; i < tasks; i++)
            await client.CreateTaskAsync(session, null);
        var enumerators = Enumerable.Range(1, tasks).Select(t => client.WatchTaskAsync(session, t).GetAsyncEnumerator()).ToList();
        // The test plays the executors: one per task, attached to the session as an executor manager's would be.
        var executors = Enumerable.Range(1, tasks).Select(i => $"hub-e{i}").ToList();
        foreach (var executor in executors)
            await grain.AttachExecutorAsync(executor);
        var held = new Dictionary<string, TaskInfo>();

        async Task LaunchAllAsync()
        {
            foreach (var executor in executors)
                held[executor] = (await grain.LaunchTaskAsync(executor)).Item ?? throw new Xunit.Sdk.XunitException($"{executor} got no task");
        }

        async Task CompleteAllAsync(bool fail)
        {
            foreach (var (executor, task) in held)
                await grain.CompleteTaskAsync(executor, new TaskResultInfo
                {
                    ReturnCode = fail ? -1 : 0, Message = fail ? "the service died" : null, SystemFailure = fail, TaskId = task.Id, Launch = task.Launch,
                });
        }

        Task EveryWatcherSeesAsync(TaskState state, bool last = false) =>
            Wait.For(Task.WhenAll(enumerators.Select(async e =>
            {
                Assert.True(await e.MoveNextAsync(), $"a watcher ended before {state}");
                Assert.Equal(state, e.Current.State);
                if (last)
                    Assert.False(await e.MoveNextAsync(), "nothing after the terminal state");
            })), $"{tasks} watchers to see {state}");

        try
        {
            await EveryWatcherSeesAsync(TaskState.Pending);
            await LaunchAllAsync();
            await EveryWatcherSeesAsync(TaskState.Running);
            await CompleteAllAsync(fail: true);
            await EveryWatcherSeesAsync(TaskState.Pending);
            await LaunchAllAsync();
            await EveryWatcherSeesAsync(TaskState.Running);
            await CompleteAllAsync(fail: false);
            await EveryWatcherSeesAsync(TaskState.Succeed, last: true);
            Assert.Equal(0, hub.WatchedTaskCount);
        }
        finally
        {
            foreach (var e in enumerators)
                await e.DisposeAsync();
        }
    }
}
