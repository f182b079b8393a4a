using Apache.Arrow.Flight;
using Flame.ObjectCache.Grains;
using Flame.ObjectCache.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Flame.ObjectCache.Tests;

/// <summary>Objects outlive the session manager in the cluster's store, and eviction drops only the copy in memory.</summary>
public sealed class DurabilityTests
{
    private static string H(byte[] bytes) => Convert.ToHexString(bytes);

    private static readonly byte[] Base = "FLM\0base"u8.ToArray();
    private static readonly byte[] Patch = "FLM\0patch"u8.ToArray();

    [Fact]
    public async Task Objects_SurviveARestartOfTheSessionManager_OnTheEmbeddedSqliteStore()
    {
        var directory = Directory.CreateTempSubdirectory("flame-cache-").FullName;
        try
        {
            var settings = new Dictionary<string, string?> { ["Flame:Storage:Provider"] = "Sqlite", ["Flame:Storage:DataDirectory"] = directory };
            var port = FreePorts.Next();
            string key;
            await using (var first = await FlightCache.StartAsync(settings, port))
            {
                key = (await first.PutBytesAsync(FlightDescriptor.CreatePathDescriptor("dur/s1"), Base)).Key;
                await first.PutBytesAsync(FlightDescriptor.CreateCommandDescriptor("PATCH:" + key), Patch);
            }
            await using var second = await FlightCache.StartAsync(settings, port);
            Assert.Equal([(1UL, "base", H(Base)), (2UL, "patch", H(Patch))], await second.RowsAsync($"{key}:0"));
            Assert.Empty(await second.RowsAsync($"{key}:2"));
            Assert.Equal(3, (await second.PutBytesAsync(FlightDescriptor.CreateCommandDescriptor("PATCH:" + key), Patch)).Version);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Eviction_DropsPayloadsFromMemoryOnly_SoEvictedObjectsAreStillRead()
    {
        await using var cache = await FlightCache.StartAsync(new Dictionary<string, string?> { ["Flame:ObjectCache:MaxMemory"] = "3K" });
        var memory = cache.Gateway.Services.GetRequiredService<ObjectMemory>();
        var keys = new List<string>();
        for (var i = 0; i < 4; i++)
            keys.Add((await cache.PutBytesAsync(FlightDescriptor.CreatePathDescriptor("lru/s1"), new byte[1024 + i])).Key);
        Assert.True(memory.Bytes <= 3 * 1024, $"memory holds {memory.Bytes} bytes, over its 3 KiB limit");
        Assert.True(memory.Count < 4, $"memory holds all {memory.Count} objects");
        for (var i = 0; i < 4; i++)
            Assert.Equal(2 * (1024 + i), Assert.Single(await cache.RowsAsync($"{keys[i]}:0")).Data.Length);
    }

    [Fact]
    public async Task ThePostgresStore_KeepsBasePatchesAndMetadata_AndDeletesByPrefix()
    {
        await using var postgres = await ThrowawayPostgres.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("objects");
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "schema", "005_flame_objects.sql")), connection);
            await command.ExecuteNonQueryAsync();
        }
        await using var store = SqlObjectStore.OpenPostgres(connectionString);
        var meta = new ObjectMeta("pg/s1/a", 1, 1, false, Base.Length, Guid.NewGuid(), 1);
        await store.PutAsync(meta, Base);
        meta = meta with { Version = 2, Bytes = Base.Length + Patch.Length, Tag = Guid.NewGuid() };
        await store.AppendPatchAsync(meta, Patch);
        await store.PutAsync(new ObjectMeta("pg/s10/b", 1, 1, true, 1, Guid.NewGuid(), 1), [7]);

        Assert.Equal(meta, await store.LoadMetaAsync("pg/s1/a"));
        var payload = await store.LoadPayloadAsync(meta);
        Assert.Equal(Base, payload!.Base);
        Assert.Equal(Patch, Assert.Single(payload.Patches));
        Assert.Equal(["pg/s1/a"], (await store.ListAsync("pg/s1/")).Select(m => m.Key));

        // A put replaces the base and drops the patches.
        var replaced = meta with { Version = 3, BaseVersion = 3, Bytes = 1, Tag = Guid.NewGuid() };
        await store.PutAsync(replaced, [1]);
        Assert.Empty((await store.LoadPayloadAsync(replaced))!.Patches);

        await store.DeleteAsync("pg/s1/a");
        Assert.Null(await store.LoadMetaAsync("pg/s1/a"));
        Assert.Equal(["pg/s10/b"], (await store.ListAsync("pg/")).Select(m => m.Key));
    }
}
