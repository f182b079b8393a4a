using Flame.SessionManager.Hosting;
using Flame.SessionManager.Storage;
using Flame.SessionManager.Tests.Support;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Npgsql;

namespace Flame.SessionManager.Tests;

using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>One real PostgreSQL server for the tests of this collection; each test takes a database of its own.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public ThrowawayPostgres Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ThrowawayPostgres.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>The schema scripts, applied through Npgsql as <c>--init-db</c> does.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSchemaTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Apply_RunsEachScriptOnce_AndRecordsIt()
    {
        var database = await fixture.Server.CreateDatabaseAsync();

        string[] all = ["001_orleans.sql", "002_flame_store.sql", "003_flame_tokens.sql", "004_flame_sessions_listing.sql", "005_flame_objects.sql"];
        Assert.Equal(all, PostgresSchema.Scripts.Select(s => s.Name));
        Assert.Equal(all, await PostgresSchema.MissingAsync(database));
        Assert.Equal(all, await PostgresSchema.ApplyAsync(database));
        Assert.Empty(await PostgresSchema.ApplyAsync(database));
        Assert.Empty(await PostgresSchema.MissingAsync(database));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var queries = new NpgsqlCommand("SELECT count(*) FROM orleansquery", connection);
        // Clustering 9 + CleanupDefunctSiloEntryKey, storage 3 + DeleteStorageKey, reminders 7.
        Assert.Equal(21L, await queries.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Apply_FromSilosStartingTogether_AppliesTheSchemaOnce()
    {
        var database = await fixture.Server.CreateDatabaseAsync();

        var applied = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostgresSchema.ApplyAsync(database)));

        // Whoever lost the race found the version recorded or ran an idempotent script: never an error, and each
        // version is recorded once.
        Assert.All(applied, a => Assert.Subset(PostgresSchema.Scripts.Select(s => s.Name).ToHashSet(), a.ToHashSet()));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var versions = new NpgsqlCommand("SELECT count(*) FROM flame_schema_migrations", connection);
        Assert.Equal((long)PostgresSchema.Scripts.Count, await versions.ExecuteScalarAsync());
        Assert.Empty(await PostgresSchema.MissingAsync(database));
    }

    [Fact]
    public async Task Prepare_Refuses_ADatabaseWithoutTheSchema_SayingWhatToRun()
    {
        var database = await fixture.Server.CreateDatabaseAsync();
        await using var app = SessionManagerApp.Create([], Silo.Settings(database, "lonely"));

        var error = await Assert.ThrowsAsync<FlameStartupException>(() => app.PrepareAsync());

        Assert.Contains("lacks schema 001_orleans.sql", error.Message);
        Assert.Contains("--init-db", error.Message);
    }

    [Fact]
    public async Task Prepare_Refuses_AnUnreachableDatabase_InOneLine()
    {
        var nowhere = $"Host=127.0.0.1;Port={FreePorts.Next()};Username=postgres;Database=flame;Timeout=3";
        await using var app = SessionManagerApp.Create(["--init-db"], Silo.Settings(nowhere, "lonely"));

        var error = await Assert.ThrowsAsync<FlameStartupException>(() => app.PrepareAsync());

        Assert.StartsWith("database 127.0.0.1:", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}

/// <summary>Two silos on one PostgreSQL membership: one cluster, each with its gateway.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresClusterTests(PostgresFixture fixture)
{
    [Fact]
    public async Task TwoSilos_FormOneCluster_ServeTheSameSessions_AndSeeEachOtherLeave()
    {
        var database = await fixture.Server.CreateDatabaseAsync();
        var clusterId = Names.Unique("c");
        await using var first = await Silo.StartAsync(["--init-db"], database, clusterId, "sm-a");
        await using var second = await Silo.StartAsync([], database, clusterId, "sm-b");
        using var channelA = GrpcChannel.ForAddress(first.Endpoint);
        using var channelB = GrpcChannel.ForAddress(second.Endpoint);

        var status = new ClusterExt.ClusterExtClient(channelA);
        await Wait.UntilAsync(
            async () => (await status.GetClusterStatusAsync(new GetClusterStatusRequest())).Silos.Count(s => s.Status == "Active") == 2,
            "both silos to be Active in the membership",
            seen: async () => (await status.GetClusterStatusAsync(new GetClusterStatusRequest())).ToString());
        var seen = await status.GetClusterStatusAsync(new GetClusterStatusRequest());
        Assert.Equal("Postgres", seen.Membership);
        Assert.Equal(clusterId, seen.ClusterId);
        Assert.Equal(["sm-a", "sm-b"], seen.Silos.Select(s => s.Name));
        Assert.Equal([true, false], seen.Silos.Select(s => s.IsLocal));

        // A session created through one gateway is the same grain seen through the other.
        var frontendA = new Frontend.FrontendClient(channelA);
        var frontendB = new Frontend.FrontendClient(channelB);
        await frontendA.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = "app-pg",
            Application = new ApplicationSpec { Command = "/bin/true" },
        });
        var session = await frontendA.CreateSessionAsync(new CreateSessionRequest
        {
            SessionId = "s-pg",
            Session = new SessionSpec { Application = "app-pg" },
        });
        await frontendA.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = "s-pg", Input = Google.Protobuf.ByteString.CopyFromUtf8("x") } });
        var fromB = await frontendB.GetSessionAsync(new GetSessionRequest { SessionId = session.Metadata.Id });
        Assert.Equal(1, fromB.Status.Pending);

        foreach (var channel in new[] { channelA, channelB })
        {
            var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }

        await second.DisposeAsync();
        await Wait.UntilAsync(
            async () => (await status.GetClusterStatusAsync(new GetClusterStatusRequest())).Silos.Select(s => s.Name).SequenceEqual(["sm-a"]),
            "sm-b to leave the cluster",
            seen: async () => (await status.GetClusterStatusAsync(new GetClusterStatusRequest())).ToString());
    }
}

/// <summary>An in-process session manager on PostgreSQL membership, on free loopback ports.</summary>
internal static class Silo
{
    public static Dictionary<string, string?> Settings(string database, string name, string? clusterId = null) => new()
    {
        ["Flame:Cluster:Provider"] = "Postgres",
        ["Flame:Cluster:ConnectionString"] = database,
        ["Flame:Cluster:AdvertisedAddress"] = "127.0.0.1",
        ["Flame:SessionManager:Name"] = name,
        ["Flame:SessionManager:ClusterId"] = clusterId ?? Names.Unique("c"),
        ["Flame:SessionManager:Endpoint"] = "http://127.0.0.1:0",
        ["Flame:SessionManager:EmbeddedExecutorManager"] = "false",
        ["Flame:SessionManager:RegisterBuiltInApplications"] = "false",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public static Task<InProcessGateway> StartAsync(string[] args, string database, string clusterId, string name)
    {
        // The gateway's ports are the fixture's own; the store follows the cluster (Auto: PostgreSQL).
        var settings = Settings(database, name, clusterId);
        settings.Remove("Flame:SessionManager:Endpoint");
        settings["Flame:Storage:Provider"] = "Auto";
        return InProcessGateway.StartAsync(settings, args);
    }
}
