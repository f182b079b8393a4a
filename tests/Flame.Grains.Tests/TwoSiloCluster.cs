using Flame.Grains.Hosting;
using Flame.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Flame.Grains.Tests;

/// <summary>
/// Two in-process silos over one task store (the part of a cluster that outlives a silo), whose membership declares a
/// dead silo dead quickly: the grain tests kill a silo (<see cref="TestCluster.KillSiloAsync"/>, no deactivation,
/// messages in flight lost) and watch its grains come back on the other.
/// </summary>
public sealed class TwoSiloCluster : IAsyncDisposable
{
    /// <summary>How often a silo probes the other, and how many missed probes declare it dead.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);
    public const int MissedProbesLimit = 2;

    /// <summary>
    /// How long a killed silo's grains may stay unreachable: its death declared (ProbeTimeout x MissedProbesLimit),
    /// then gossiped and the directory updated; four times that, for a loaded 2-core machine.
    /// </summary>
    public static readonly TimeSpan RecoveryBound = 4 * (ProbeTimeout * MissedProbesLimit + TimeSpan.FromSeconds(1));

    // Silos are in-process: each cluster finds its store here by key.
    private static readonly Dictionary<string, (ITaskStore Store, TimeSpan Latency)> Stores = [];
    private readonly string _key;

    private TwoSiloCluster(TestCluster cluster, string key)
    {
        Cluster = cluster;
        _key = key;
    }

    public TestCluster Cluster { get; }

    /// <summary>
    /// Grain calls as the gateway of the surviving silo makes them (Flame's gateways live in the silos): a call in
    /// flight to the killed silo is broken when the membership declares it dead. (A client connected to the killed
    /// silo's own gateway is issue 21's case.)
    /// </summary>
    public IGrainFactory Gateway => ((InProcessSiloHandle)Cluster.Primary!).ServiceProvider.GetRequiredService<IGrainFactory>();

    /// <summary>The silo that is not the primary: the one the tests kill (the primary holds the test membership table).</summary>
    public SiloHandle Secondary => Cluster.SecondarySilos[0];

    /// <summary>Starts two silos over <paramref name="store"/>, each writing to it with <paramref name="writeLatency"/>.</summary>
    public static async Task<TwoSiloCluster> StartAsync(ITaskStore store, TimeSpan writeLatency)
    {
        var key = Guid.NewGuid().ToString("N");
        lock (Stores)
            Stores[key] = (store, writeLatency);
        var builder = new TestClusterBuilder(initialSilosCount: 2);
        builder.Properties["store"] = key;
        builder.AddSiloBuilderConfigurator<Configurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new TwoSiloCluster(cluster, key);
    }

    /// <summary>
    /// Kills <paramref name="silo"/>: its writes to the store stop first (a dead process writes nothing more), then
    /// <see cref="TestCluster.KillSiloAsync"/>.
    /// </summary>
    public async Task KillAsync(SiloHandle silo)
    {
        ((InProcessSiloHandle)silo).ServiceProvider.GetRequiredService<LatentTaskStore>().Cut();
        await Cluster.KillSiloAsync(silo);
    }

    /// <summary>The silo that hosts <paramref name="grain"/>'s activation now, or null when it is not active.</summary>
    public SiloAddress? HostOf(IAddressable grain) =>
        Cluster.TryGetGrainContext(grain.GetGrainId(), out var context) ? context.Address.SiloAddress : null;

    /// <summary>
    /// The first of <paramref name="candidates"/> whose grain, once <paramref name="activate"/>d, lives on
    /// <paramref name="silo"/>: the tests choose the hard topology instead of hoping placement gives it.
    /// </summary>
    public async Task<(string Key, TGrain Grain)> PlaceAsync<TGrain>(
        IEnumerable<string> candidates, SiloHandle silo, Func<TGrain, Task> activate) where TGrain : IGrainWithStringKey
    {
        // Activated from that silo (placement prefers the caller's silo), then used through the gateway.
        var local = ((InProcessSiloHandle)silo).ServiceProvider.GetRequiredService<IGrainFactory>();
        var tried = new List<string>();
        foreach (var key in candidates.Take(40))
        {
            await activate(local.GetGrain<TGrain>(key));
            var grain = Gateway.GetGrain<TGrain>(key);
            if (HostOf(grain) == silo.SiloAddress)
                return (key, grain);
            tried.Add($"{key} on {HostOf(grain)}");
        }
        throw new Xunit.Sdk.XunitException($"no candidate grain was placed on {silo.SiloAddress}: {string.Join(", ", tried)}");
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        lock (Stores)
            Stores.Remove(_key);
    }

    private sealed class Configurator : IHostConfigurator
    {
        public void Configure(Microsoft.Extensions.Hosting.IHostBuilder host) => host.ConfigureServices((context, services) =>
        {
            (ITaskStore Store, TimeSpan Latency) shared;
            lock (Stores)
                shared = Stores[context.Configuration["store"]!];
            services.AddSingleton(new LatentTaskStore(shared.Store, shared.Latency));
            services.AddSingleton<ITaskStore>(sp => sp.GetRequiredService<LatentTaskStore>());
            services.AddFlameGrains(ClusterFixture.Limits, ClusterFixture.Execution);
            services.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = ProbeTimeout;
                o.NumMissedProbesLimit = MissedProbesLimit;
                // Two silos: the survivor's vote is the only one there can be.
                o.NumVotesForDeathDeclaration = 1;
            });
        });
    }
}
