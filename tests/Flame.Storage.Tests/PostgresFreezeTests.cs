using Flame.Storage.Postgres;

namespace Flame.Storage.Tests;

/// <summary>
/// The fault matrix's frozen PostgreSQL (SIGSTOP of the server and its backends, longer than a command's timeout):
/// the writes in flight and those issued meanwhile time out, are retried on new connections within the retry window,
/// and complete once the server resumes; nothing acknowledged is lost. A server of its own, since it is frozen.
/// </summary>
public sealed class PostgresFreezeTests(PostgresServerFixture fixture) : IClassFixture<PostgresServerFixture>
{
    // Shorter than the freeze, so that the store meets timeouts (not only a slow answer) and must retry them.
    private const int CommandTimeoutSeconds = 2;
    private static readonly TimeSpan Freeze = TimeSpan.FromSeconds(3 * CommandTimeoutSeconds);

    [Fact]
    public async Task A_frozen_server_holds_writes_that_complete_once_it_resumes_and_nothing_acknowledged_is_lost()
    {
        var database = await fixture.CreateDatabaseAsync()
                       + $";Command Timeout={CommandTimeoutSeconds};Timeout={CommandTimeoutSeconds};Cancellation Timeout=1000";
        var options = new FlameTaskStoreOptions { RetryWindow = TimeSpan.FromSeconds(90) };
        var acknowledged = new List<long>();
        Task[] duringFreeze;
        await using (var store = new PostgresTaskStore(database, options))
        {
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                for (long id = 1; !stop.IsCancellationRequested; id++)
                {
                    await store.WriteTasksAsync("steady", [TaskStoreContractTests.NewTask(id, input: [(byte)id])]);
                    lock (acknowledged)
                        acknowledged.Add(id);
                }
            });
            await Wait.UntilAsync(() => { lock (acknowledged) return acknowledged.Count >= 20; }, "20 writes acknowledged before the freeze");

            await fixture.Server.FreezeAsync();
            try
            {
                duringFreeze = Enumerable.Range(1, 50)
                    .Select(i => store.WriteTasksAsync("frozen", [TaskStoreContractTests.NewTask(i, input: new byte[i * 100])])).ToArray();
                // The fault lasts this long (three command timeouts): not a wait for anything.
                await Task.Delay(Freeze);
                Assert.DoesNotContain(duringFreeze, w => w.IsCompleted);
            }
            finally
            {
                await fixture.Server.ThawAsync();
            }

            await Task.WhenAll(duringFreeze).WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(90)));
            int before;
            lock (acknowledged)
                before = acknowledged.Count;
            await Wait.UntilAsync(() => { lock (acknowledged) return acknowledged.Count >= before + 20; }, "20 more writes after the server resumed");
            await stop.CancelAsync();
            await writer.WaitAsync(Wait.Timeout);
        }

        await using var reopened = new PostgresTaskStore(database, options);
        var steady = new HashSet<long>();
        await foreach (var task in reopened.LoadTasksAsync("steady", 0))
            steady.Add(task.Id);
        Assert.All(acknowledged, id => Assert.Contains(id, steady));
        var frozen = new List<StoredTask>();
        await foreach (var task in reopened.LoadTasksAsync("frozen", 0))
            frozen.Add(task);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), frozen.Select(t => t.Id));
        Assert.All(frozen, t => Assert.Equal((int)t.Id * 100, t.Input!.Length));
    }
}
