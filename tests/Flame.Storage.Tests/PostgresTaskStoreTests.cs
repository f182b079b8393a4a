using Flame.Storage.Postgres;
using Npgsql;

namespace Flame.Storage.Tests;

/// <summary>One throwaway PostgreSQL server for the class; each test gets a database of its own with schema 002.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    public ThrowawayPostgres Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ThrowawayPostgres.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>A new database with deploy/postgres/002_flame_store.sql, 003_flame_tokens.sql and 004_flame_sessions_listing.sql applied through Npgsql.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var database = await Server.CreateDatabaseAsync("store");
        await ApplySchemaAsync(database);
        return database;
    }

    public static async Task ApplySchemaAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        foreach (var file in new[] { "002_flame_store.sql", "003_flame_tokens.sql", "004_flame_sessions_listing.sql" })
        {
            var script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "schema", file));
            await using var command = new NpgsqlCommand(script, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}

public sealed class PostgresTaskStoreTests(PostgresServerFixture fixture) : TaskStoreContractTests, IClassFixture<PostgresServerFixture>
{
    private string _database = null!;

    private FlameTaskStoreOptions _options = new();

    public override async Task InitializeAsync()
    {
        _database = await fixture.CreateDatabaseAsync();
        await base.InitializeAsync();
    }

    protected override Task<ITaskStore> OpenAsync() => Task.FromResult<ITaskStore>(new PostgresTaskStore(_database, _options));

    protected override async Task<long?> CountRowsAsync(string table)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Schema_AppliedAgain_IsHarmless_AndRecordsEachVersionOnce()
    {
        await PostgresServerFixture.ApplySchemaAsync(_database);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostgresServerFixture.ApplySchemaAsync(_database)));

        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(version::text, ',' ORDER BY version) FROM flame_schema_migrations", connection);
        Assert.Equal("2,3,4", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task ServerRestart_WritesIssuedDuringTheOutage_CompleteAfterIt_AndNothingAcknowledgedIsLost()
    {
        _options = new FlameTaskStoreOptions { RetryWindow = TimeSpan.FromSeconds(90) };
        await ReopenAsync();

        // A writer that keeps going through the outage, one awaited write after another.
        var acknowledged = new List<long>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (long id = 1; !stop.IsCancellationRequested; id++)
            {
                await Store.WriteTasksAsync("steady", [NewTask(id, input: [(byte)id])]);
                lock (acknowledged)
                    acknowledged.Add(id);
            }
        });
        await Wait.UntilAsync(() => { lock (acknowledged) return acknowledged.Count >= 20; }, "20 writes acknowledged before the crash", TimeSpan.FromSeconds(60));

        await fixture.Server.StopAsync("immediate");
        var duringOutage = Enumerable.Range(1, 50).Select(i => Store.WriteTasksAsync("outage", [NewTask(i, input: Bytes(i * 100))])).ToArray();
        Assert.DoesNotContain(duringOutage, w => w.IsCompleted);
        await fixture.Server.StartAgainAsync();

        await Task.WhenAll(duringOutage).WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(90)));
        var before = acknowledged.Count;
        await Wait.UntilAsync(() => { lock (acknowledged) return acknowledged.Count >= before + 20; }, "20 more writes after the restart", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await writer.WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(60)));

        await ReopenAsync();
        var stored = (await AllTasksAsync("steady")).Select(t => t.Id).ToHashSet();
        Assert.All(acknowledged, id => Assert.Contains(id, stored));
        var outage = await AllTasksAsync("outage");
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), outage.Select(t => t.Id));
        Assert.All(outage, t => Assert.Equal(Bytes((int)t.Id * 100), t.Input));
    }

    [Fact]
    public async Task ServerRestart_ReadsAfterIt_DoNotFailOnThePooledConnectionsItKilled()
    {
        await Store.SaveSessionAsync(new StoredSession { Id = "s", Application = "app", Open = true, Json = "{}", CreationTime = 1 });
        await Store.WriteTasksAsync("s", [.. Enumerable.Range(1, 10).Select(i => NewTask(i, input: [(byte)i]))]);
        // Several reads at once leave several idle connections in the pool, every one of them dead after the restart.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => AllTasksAsync("s")));

        await fixture.Server.StopAsync("immediate");
        await fixture.Server.StartAgainAsync();

        Assert.Equal("app", (await Store.LoadSessionAsync("s"))?.Application);
        Assert.Equal(new byte[] { 7 }, (await Store.LoadTaskAsync("s", 7))?.Input);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), (await AllTasksAsync("s")).Select(t => t.Id));
    }

    [Fact]
    public async Task ServerRestart_DuringAStreamedRead_ResumesAfterTheLastTaskRead_NothingTwiceNothingSkipped()
    {
        const int total = 40_000;
        _options = new FlameTaskStoreOptions { RetryWindow = TimeSpan.FromSeconds(90) };
        await ReopenAsync();
        await Store.WriteTasksAsync("s", [.. Enumerable.Range(1, total).Select(i => NewTask(i, input: Bytes(1000, (byte)i)))]);

        var ids = new List<long>();
        await using (var tasks = Store.LoadTasksAsync("s", 0).GetAsyncEnumerator())
        {
            // The first rows are in; far more than one read buffer is still on the server's side of the connection.
            while (ids.Count < 10 && await tasks.MoveNextAsync())
                ids.Add(tasks.Current.Id);
            await fixture.Server.StopAsync("immediate");
            var restart = fixture.Server.StartAgainAsync();
            while (await tasks.MoveNextAsync())
            {
                Assert.Equal(Bytes(1000, (byte)tasks.Current.Id), tasks.Current.Input);
                ids.Add(tasks.Current.Id);
            }
            await restart;
        }

        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), ids);
    }

    [Fact]
    public async Task Outage_LongerThanTheRetryWindow_FailsTheCallers_AndTheStoreWorksAgainAfterwards()
    {
        _options = new FlameTaskStoreOptions { RetryWindow = TimeSpan.FromSeconds(1) };
        await ReopenAsync();

        await fixture.Server.StopAsync("fast");
        try
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => Store.WriteTasksAsync("s", [NewTask(1)]).WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(60))));
        }
        finally
        {
            await fixture.Server.StartAgainAsync();
        }

        await Store.WriteTasksAsync("s", [NewTask(2)]).WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(60)));
        Assert.Equal([2L], (await AllTasksAsync("s")).Select(t => t.Id));
    }

    [Fact]
    public async Task Batch_ThatFailsForGood_FaultsItsCallersAtOnce_AndLaterWritesSucceed()
    {
        // PostgreSQL text cannot hold NUL: a permanent error, so no retry.
        var bad = await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteTasksAsync("bad\0id", [NewTask(1)]).WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(10))));
        Assert.False(bad is NpgsqlException { IsTransient: true }, bad.ToString());

        await Store.WriteTasksAsync("good", [NewTask(1)]);
        Assert.Single(await AllTasksAsync("good"));
    }
}
