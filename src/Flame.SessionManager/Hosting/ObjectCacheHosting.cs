using Flame.ObjectCache.Hosting;
using Flame.ObjectCache.Storage;
using Flame.SessionManager.Options;

namespace Flame.SessionManager.Hosting;

/// <summary>The object cache (issue 17) in the session manager, in the cluster's store.</summary>
internal static class ObjectCacheHosting
{
    /// <summary>
    /// Adds Flame's object cache (<c>Flame:ObjectCache</c>) with its objects where the tasks are: the SQLite file
    /// <c>objects.db</c> beside <c>flame.db</c>, the cluster's PostgreSQL database, or memory.
    /// </summary>
    public static WebApplicationBuilder AddSessionManagerObjectCache(this WebApplicationBuilder builder, FlameStorageOptions store, FlameClusterOptions cluster)
    {
        builder.AddFlameObjectCache(_ => store.Provider switch
        {
            StorageProvider.Sqlite => SqlObjectStore.OpenSqlite(Path.Combine(store.DataDirectory!, "objects.db")),
            StorageProvider.Postgres => SqlObjectStore.OpenPostgres(cluster.ConnectionString!),
            _ => new MemoryObjectStore(),
        });
        // The embedded executor manager's services find this cache as Flame's find theirs: FLAME_CACHE_ENDPOINT.
        var key = $"{Flame.ExecutorManager.Hosting.FlameExecutorManagerOptions.Section}:CacheEndpoint";
        if (builder.Configuration[key] is null
            && builder.Services.FirstOrDefault(s => s.ServiceType == typeof(Flame.ObjectCache.Flight.CacheEndpoint))?.ImplementationInstance is Flame.ObjectCache.Flight.CacheEndpoint cache)
            builder.Configuration[key] = cache.Advertised;
        return builder;
    }
}
