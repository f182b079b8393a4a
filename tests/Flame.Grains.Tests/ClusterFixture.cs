using Flame.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Flame.Grains.Tests;

/// <summary>One in-process Orleans test cluster shared by the grain tests.</summary>
public class ClusterFixture : IAsyncLifetime
{
    /// <summary>Small limits so that the tests can exceed them cheaply.</summary>
    public static readonly FlameLimitsOptions Limits = new()
    {
        MaxTaskInputBytes = 1024,
        MaxCommonDataBytes = 2048,
        MaxTaskOutputBytes = 1024,
    };

    /// <summary>Short timeouts so that the lifecycle tests run in seconds.</summary>
    public static readonly FlameExecutionOptions Execution = new()
    {
        MaxTaskAttempts = 3,
        DefaultDelayReleaseSeconds = 0,
        NodeHeartbeatTimeoutSeconds = 2,
        LongPollSlice = TimeSpan.FromSeconds(2),
    };

    public TestCluster Cluster { get; } = new TestClusterBuilder(initialSilosCount: 1)
        .AddSiloBuilderConfigurator<SiloConfigurator>()
        .Build();

    public IGrainFactory Grains => Cluster.Client;

    public Task InitializeAsync() => Cluster.DeployAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo.Services.AddFlameGrains(Limits, Execution);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>A cluster of its own for the execution tests, so that no other test's sessions compete for their executors.</summary>
public sealed class ExecutionClusterFixture : ClusterFixture;

[CollectionDefinition(Name)]
public sealed class ExecutionClusterCollection : ICollectionFixture<ExecutionClusterFixture>
{
    public const string Name = "execution-cluster";
}
