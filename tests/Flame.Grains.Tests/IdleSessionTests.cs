using Flame.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Flame.Grains.Tests;

/// <summary>
/// Memory follows activity (issue 20): an idle session grain leaves memory after Flame:Limits:IdleSessionLifetime and
/// comes back from the store as it was; a session with work keeps itself. A cluster of its own, with a short lifetime.
/// </summary>
public sealed class IdleSessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);
    private readonly TestCluster _cluster = new TestClusterBuilder(initialSilosCount: 1).AddSiloBuilderConfigurator<Configurator>().Build();

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var limits = new FlameLimitsOptions { IdleSessionLifetime = Lifetime };
            silo.Services.AddFlameGrains(limits, ClusterFixture.Execution);
            silo.Services.Configure<GrainCollectionOptions>(o => o.CollectionQuantum = TimeSpan.FromMilliseconds(500));
        }
    }

    public Task InitializeAsync() => _cluster.DeployAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task AnIdleSession_LeavesMemory_AndComesBackAsItWas_WhileOneWithPendingTasksStays()
    {
        var grains = _cluster.Client;
        await grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key).RegisterAsync("idle-app", new ApplicationSpec { Command = "/bin/true" });
        var idle = grains.GetGrain<ISessionGrain>("idle-session");
        var busy = grains.GetGrain<ISessionGrain>("busy-session");
        await idle.CreateAsync(new SessionSpec { Application = "idle-app" });
        await idle.CreateTasksAsync([[1]]);
        await idle.CloseAsync(); // its one task cancelled: nothing left to do
        await busy.CreateAsync(new SessionSpec { Application = "idle-app" });
        await busy.CreateTasksAsync([[2], [3]]);
        var before = await idle.GetAsync();
        var management = grains.GetGrain<IManagementGrain>(0);
        var type = idle.GetGrainId().Type;
        List<GrainId> active = [];

        await Wait.UntilAsync(
            async () =>
            {
                active = await management.GetActiveGrains(type);
                return !active.Contains(idle.GetGrainId());
            },
            "the idle session's grain to be deactivated", TimeSpan.FromSeconds(30),
            seen: () => Task.FromResult($"active: {string.Join(", ", active)}"));

        Assert.Contains(busy.GetGrainId(), active);
        var after = await idle.GetAsync();
        Assert.Equal(before.Status with { Events = [] }, after.Status with { Events = [] });
        Assert.Equal(2, (await busy.GetAsync()).Status.Pending);
    }
}
