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
    /// Runs <c>flame-executor-manager</c> with <paramref name="args"/> until it is stopped: Program.cs is this call.
    /// Returns 0, or 2 after one line on stderr when the command line or the configuration cannot be used.
    /// </summary>
    public static Task<int> RunAsync(string[] args) =>
        ExecutorManagerCommandLine.Definition.RunAsync(args, arguments => Create(arguments).RunAsync());

    /// <summary>Creates the host from command-line arguments plus optional configuration overrides.</summary>
    /// <exception cref="FlameConfigurationException">The command line or the configuration cannot be used.</exception>
    public static IHost Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null) =>
        Create(ExecutorManagerCommandLine.Parse(args), overrides);

    /// <summary>
    /// Configuration, lowest first: defaults; environment variables (<c>Flame__ExecutorManager__Slots</c>); the
    /// <c>--config</c> file; environment variables again (they win over the file); the command line;
    /// <paramref name="overrides"/>.
    /// </summary>
    /// <exception cref="FlameConfigurationException">The configuration cannot be used.</exception>
    public static IHost Create(ServerArguments arguments, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "flame-executor-manager",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddServerArguments(arguments, overrides);

        var options = builder.Services.AddFlameOptions<FlameExecutorManagerOptions>(builder.Configuration, FlameExecutorManagerOptions.Section);
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
