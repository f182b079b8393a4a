using Flame.ObjectCache.Flight;
using Flame.ObjectCache.Grains;
using Flame.ObjectCache.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Flame.ObjectCache.Hosting;

/// <summary>Registers Flame's object cache in a silo's host.</summary>
public static class ObjectCacheHostingExtensions
{
    /// <summary>
    /// Adds the object cache of <c>Flame:ObjectCache</c>: the object grains, this silo's payload memory, the store made by
    /// <paramref name="store"/> and, unless the endpoint is <c>none</c>, the Flight server (a hosted service: call this
    /// after <c>UseOrleans</c> so that it starts after the silo and stops before it).
    /// </summary>
    /// <exception cref="FlameConfigurationException">A setting of <c>Flame:ObjectCache</c> cannot be used.</exception>
    public static IHostApplicationBuilder AddFlameObjectCache(this IHostApplicationBuilder builder, Func<IServiceProvider, IObjectStore> store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddFlameOptions<FlameObjectCacheOptions>(builder.Configuration, FlameObjectCacheOptions.Section);
        long maxMemory;
        try
        {
            maxMemory = ByteSize.Parse(options.MaxMemory);
        }
        catch (FormatException ex)
        {
            throw new FlameConfigurationException($"configuration key '{FlameObjectCacheOptions.Section}:MaxMemory': {ex.Message}");
        }
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new ObjectMemory(maxMemory, options.MaxObjects, options.Eviction == EvictionPolicy.Lru));
        builder.Services.AddSingleton<IObjectStore>(store);
        // On the store, not the Flight server: a session's objects go with it even when the endpoint is none.
        if (options.DeleteWithSession)
            builder.Services.AddSingleton<ISessionDeletionHook, SessionObjectsDeletion>();
        // A payload crosses silos in one grain message: room for the largest object and the message around it.
        builder.Services.Configure<SiloMessagingOptions>(o =>
            o.MaxMessageBodySize = Math.Max(o.MaxMessageBodySize, (int)Math.Min(int.MaxValue, options.MaxObjectBytes + 1024L * 1024)));
        if (!options.Enabled)
            return builder;
        var endpoint = CacheEndpoint.Resolve(options);
        builder.Services.AddSingleton(endpoint);
        builder.Services.AddSingleton(new ObjectCacheCertificate(options));
        builder.Services.AddHostedService<ObjectCacheHost>();
        return builder;
    }
}
