using Flame.ExecutorManager.Gateway;
using Flame.ExecutorManager.Executors;
using Flame.ExecutorManager.Nodes;
using Flame.ExecutorManager.Shims;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Flame.Hosting;

namespace Flame.ExecutorManager.Hosting;

/// <summary>
/// Makes a host a Flame node: the executable uses it, and so can a session manager that runs executors in its own
/// process. Only the flame.v1 protocol is spoken, to the gateway at <see cref="FlameExecutorManagerOptions.Endpoint"/>.
/// </summary>
public static class ExecutorManagerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the node agent (a hosted service) that registers this node, keeps its heartbeat, and runs the executors the
    /// gateway asks for; on shutdown it stops them, kills every service process and releases the node.
    /// </summary>
    /// <exception cref="FlameConfigurationException">The options are invalid, or the work directory cannot be created.</exception>
    public static IServiceCollection AddFlameExecutorManager(this IServiceCollection services, FlameExecutorManagerOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        EnsureWorkDirectory(options.WorkDirectory);
        var credentials = GatewayConnection.ReadCredentials(options);

        services.TryAddSingleton(TimeProvider.System);
        // Keyed by nothing but their own (internal) types, so that a session manager's own registrations never clash.
        services.AddSingleton(sp => new GatewayConnection(options, credentials, sp.GetRequiredService<ILogger<GatewayConnection>>()));
        services.AddSingleton(_ => new NodeDescription(options));
        services.AddSingleton(_ => NodeGuard.From(options));
        services.AddSingleton(_ => new ApplicationPackages(Path.Combine(options.WorkDirectory, "apps"), new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, options.MaxPackageBytes));
        services.AddSingleton(sp => new ExecutorRegistry(
            options, sp.GetRequiredService<GatewayConnection>(), sp.GetRequiredService<NodeGuard>(), sp.GetRequiredService<ApplicationPackages>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService(sp => new NodeAgent(
            options,
            sp.GetRequiredService<NodeDescription>(),
            sp.GetRequiredService<GatewayConnection>(),
            sp.GetRequiredService<ExecutorRegistry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NodeAgent>>()));
        return services;
    }

    /// <summary>Binds section <c>Flame:ExecutorManager</c> of <paramref name="configuration"/>, then as above.</summary>
    /// <exception cref="FlameConfigurationException">A key is unknown or invalid, or the work directory cannot be created.</exception>
    public static IServiceCollection AddFlameExecutorManager(this IServiceCollection services, IConfiguration configuration) =>
        services.AddFlameExecutorManager(FlameExecutorManagerOptions.FromConfiguration(configuration));

    private static void EnsureWorkDirectory(string workDirectory)
    {
        try
        {
            Shims.PrivateDirectory.Create(workDirectory);
            Shims.PrivateDirectory.Create(Path.Combine(workDirectory, "executors"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlameConfigurationException(
                $"configuration key '{FlameExecutorManagerOptions.Section}:{nameof(FlameExecutorManagerOptions.WorkDirectory)}': cannot create '{workDirectory}': {ex.Message}");
        }
    }
}
