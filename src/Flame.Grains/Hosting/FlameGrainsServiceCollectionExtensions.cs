using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Flame.Grains.Hosting;

/// <summary>Registers what the Flame grains need in a silo.</summary>
public static class FlameGrainsServiceCollectionExtensions
{
    /// <summary>Adds the clock, the limits and the execution settings the grains use.</summary>
    public static IServiceCollection AddFlameGrains(
        this IServiceCollection services, FlameLimitsOptions limits, FlameExecutionOptions? execution = null,
        FlameSchedulingOptions? scheduling = null)
    {
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(scheduling ?? new FlameSchedulingOptions()));
        services.TryAddSingleton(TimeProvider.System);
        // Nothing durable unless the host registers a real store (SQLite, PostgreSQL) first.
        services.TryAddSingleton<Flame.Storage.ITaskStore, Flame.Storage.Memory.MemoryTaskStore>();
        services.TryAddSingleton<Sessions.SessionTaskReader>();
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(limits));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(execution ?? new FlameExecutionOptions()));
        // Idle sessions leave memory; a busy one delays its own collection (SessionGrain.KeepWhileBusy).
        services.Configure<Orleans.Configuration.GrainCollectionOptions>(o =>
            o.ClassSpecificCollectionAge[typeof(Sessions.SessionGrain).FullName!] = limits.IdleSessionLifetime);
        return services;
    }
}
