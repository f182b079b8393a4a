using System.Reflection;
using Flame.ExecutorManager.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Flame.ExecutorManager.Tests.Support;

/// <summary>Real nodes (the executor manager, in-process) for the tests, logging to the test's output.</summary>
public static class TestNodes
{
    /// <summary>The test service's executable (tests/Flame.TestService), built by the project reference.</summary>
    public static string TestServicePath { get; } = typeof(TestNodes).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestServicePath").Value!;

    /// <summary>
    /// Starts node <c>node-a</c> of two slots against <paramref name="endpoint"/>, working in <paramref name="workDirectory"/>,
    /// with short intervals; it runs the test service, shell scripts and Python services unless <paramref name="configure"/>
    /// says otherwise.
    /// </summary>
    public static async Task<IHost> StartAsync(
        string endpoint, string workDirectory, ITestOutputHelper output, Action<FlameExecutorManagerOptions>? configure = null)
    {
        var options = new FlameExecutorManagerOptions
        {
            Endpoint = endpoint,
            NodeName = "node-a",
            Slots = 2,
            WorkDirectory = workDirectory,
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            ServiceStartTimeout = TimeSpan.FromSeconds(20),
            ShutdownGrace = TimeSpan.FromSeconds(2),
            AllowedCommands = [Path.GetDirectoryName(TestServicePath)!, "/bin/sh", "/usr/bin/python3"],
        };
        configure?.Invoke(options);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output));
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddFlameExecutorManager(options);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
