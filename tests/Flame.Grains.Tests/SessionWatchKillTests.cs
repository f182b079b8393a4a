using System.Diagnostics;
using Flame.Client;
using Flame.Storage.Memory;
using Xunit.Abstractions;

namespace Flame.Grains.Tests;

/// <summary>
/// Issue 21: a WatchSession served by the gateway of the silo that lives, of a session whose silo is killed. The
/// session's new activation knows no watchers; the watch must notice and carry on, or it waits forever (flmping -p
/// hung so when the silo it was not connected to died).
/// </summary>
public sealed class SessionWatchKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_session_watch_through_the_surviving_silo_reports_every_task_once_and_ends_when_the_silo_of_the_session_is_killed()
    {
        await using var cluster = await TwoSiloCluster.StartAsync(new MemoryTaskStore(), TimeSpan.FromMilliseconds(10));
        const string app = "watch-kill-app";
        await cluster.Gateway.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
            .RegisterAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var victim = cluster.Secondary;
        var (sessionId, session) = await cluster.PlaceAsync<ISessionGrain>(
            Enumerable.Range(1, int.MaxValue).Select(i => $"watch-kill-{i}"), victim,
            g => g.CreateAsync(new SessionSpec { Application = app }));
        const int tasks = 6;
        await session.CreateTasksAsync([.. Enumerable.Range(1, tasks).Select(SiloKillTests.Input)]);

        // The gateway's client: the surviving silo's own grain factory, as the gRPC gateway there uses it.
        await using var client = new OrleansFlameClient(cluster.Gateway);
        var seen = new List<long>();
        var inPlace = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = Task.Run(async () =>
        {
            await foreach (var batch in client.WatchSessionAsync(sessionId))
            {
                inPlace.TrySetResult();
                lock (seen)
                    seen.AddRange(batch.Select(t => t.Id));
            }
        });
        await inPlace.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Two tasks finish before the kill and are seen through the watch.
        await session.AttachExecutorAsync("e-1");
        for (var i = 0; i < 2; i++)
        {
            var launched = (await session.LaunchTaskAsync("e-1")).Item!;
            await session.CompleteTaskAsync("e-1", new TaskResultInfo { Output = [1] });
            output.WriteLine($"task {launched.Id} done before the kill");
        }
        await Wait.UntilAsync(() => { lock (seen) return seen.Count == 2; }, "the watch to report the two tasks done before the kill", TimeSpan.FromSeconds(30));

        await cluster.KillAsync(victim);
        var killed = Stopwatch.StartNew();
        // The rest finish on the session's new activation, and the session is closed: the watch must report them and end.
        var deadline = TwoSiloCluster.RecoveryBound + TimeSpan.FromSeconds(30);
        await RetriedAsync(() => session.AttachExecutorAsync("e-2"), deadline);
        for (var done = 2; done < tasks; done++)
        {
            var launched = (await RetriedAsync(() => session.LaunchTaskAsync("e-2"), deadline)).Item!;
            await RetriedAsync(() => session.CompleteTaskAsync("e-2", new TaskResultInfo { Output = [2] }), deadline);
            output.WriteLine($"task {launched.Id} done after the kill");
        }
        await RetriedAsync(() => session.CloseAsync(), deadline);
        Assert.NotEqual(victim.SiloAddress, cluster.HostOf(session));

        var bound = TwoSiloCluster.RecoveryBound + OrleansFlameClient.SessionWatchCheckInterval * 2;
        var ended = await Task.WhenAny(watch, Task.Delay(bound + TimeSpan.FromSeconds(30)));
        lock (seen)
            Assert.True(ended == watch, $"the watch had not ended {killed.Elapsed.TotalSeconds:0}s after the kill; it reported [{string.Join(", ", seen)}]");
        await watch;
        output.WriteLine($"the watch ended {killed.Elapsed.TotalSeconds:0.0}s after the kill");
        Assert.Equal(Enumerable.Range(1, tasks).Select(i => (long)i), seen.Order());
    }

    /// <summary>A call sent again while the killed silo's grains are unreachable (what a gateway's retry filter does).</summary>
    private static async Task<T> RetriedAsync<T>(Func<Task<T>> call, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (SiloKillTests.Documented(ex) && clock.Elapsed < deadline)
            {
            }
        }
    }

    private static Task RetriedAsync(Func<Task> call, TimeSpan deadline) =>
        RetriedAsync(async () =>
        {
            await call();
            return true;
        }, deadline);
}
