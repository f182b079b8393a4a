using Microsoft.Extensions.Configuration;

namespace Flame.Hosting;

/// <summary>What a server command line says: the cluster file and the configuration keys set by switches and given as keys.</summary>
/// <param name="ConfigFile">The full path of the cluster file given with <c>--config</c>, if any.</param>
/// <param name="Overrides">Configuration keys set on the command line; they win over the file and the environment.</param>
public sealed record ServerArguments(string? ConfigFile, IReadOnlyDictionary<string, string?> Overrides)
{
    /// <summary>No switches, no file.</summary>
    public static ServerArguments None { get; } = new(null, new Dictionary<string, string?>());
}

/// <summary>Puts a server's command line into its configuration, the same way in both server processes.</summary>
public static class ServerArgumentsConfiguration
{
    /// <summary>
    /// Adds, after what <paramref name="configuration"/> holds (appsettings.json, the environment): the <c>--config</c>
    /// cluster file; the environment again, which wins over the file as it does over appsettings.json; the command
    /// line's keys; then <paramref name="overrides"/> (tests and benchmarks that host a server in-process).
    /// </summary>
    /// <exception cref="FlameConfigurationException">The cluster file is missing or malformed.</exception>
    public static IConfigurationBuilder AddServerArguments(this IConfigurationBuilder configuration, ServerArguments arguments,
        IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(arguments);
        if (arguments.ConfigFile is { } file)
        {
            try
            {
                configuration.AddClusterConfigurationFile(file);
            }
            catch (InvalidDataException ex)
            {
                throw new FlameConfigurationException(ex.Message);
            }
            configuration.AddEnvironmentVariables();
        }
        configuration.AddInMemoryCollection(arguments.Overrides);
        if (overrides is not null)
            configuration.AddInMemoryCollection(overrides);
        return configuration;
    }
}
