using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Flame.Grains.Hosting;

/// <summary>Registers what the Flame grains need in a silo.</summary>
public static class FlameGrainsServiceCollectionExtensions
{
    /// <summary>Adds the clock, the limits and the execution settings the grains use.</summary>
    public static IServiceCollection AddFlameGrains(
        this IServiceCollection services, FlameLimitsOptions limits, FlameExecutionOptions? execution = null)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(limits));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(execution ?? new FlameExecutionOptions()));
        return services;
    }
}
