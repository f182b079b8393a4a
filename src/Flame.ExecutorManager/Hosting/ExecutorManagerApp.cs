using Flame.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Hosting;

/// <summary>Builds a ready-to-run executor manager host; used by Program and by tests that run a node in-process.</summary>
public static class ExecutorManagerApp
{
    /// <summary>
    /// Configuration, lowest first: defaults; environment variables (<c>Flame__ExecutorManager__Slots</c>); the
    /// <c>--config</c> file; the command-line switches.
    /// </summary>
    /// <exception cref="ExecutorManagerConfigurationException">The configuration cannot be used.</exception>
    public static IHost Create(ExecutorManagerCommandLine commandLine, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "flame-executor-manager",
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (commandLine.ConfigFile is { } file)
        {
            try
            {
                builder.Configuration.AddClusterConfigurationFile(file);
            }
            catch (InvalidDataException ex)
            {
                throw new ExecutorManagerConfigurationException(ex.Message);
            }
            // The environment wins over the file, as it does over appsettings.json.
            builder.Configuration.AddEnvironmentVariables();
        }
        builder.Configuration.AddInMemoryCollection(commandLine.Overrides);
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);

        var options = FlameExecutorManagerOptions.FromConfiguration(builder.Configuration);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host =>
        {
            // Room for every executor to unbind, give its service the grace, and unregister; then ReleaseNode.
            host.ShutdownTimeout = options.ShutdownGrace + options.SessionLeaveTimeout + TimeSpan.FromSeconds(20);
        });
        builder.Services.AddFlameExecutorManager(options);
        return builder.Build();
    }
}
