using System.Diagnostics;
using Flame.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Flame.Grains.Tests;

/// <summary>
/// The fault matrix's clock row: the silo's wall clock jumps (an NTP step, <c>date -s</c>) an hour forward or back while
/// nodes heartbeat. Liveness is a duration, measured on the monotonic clock: a forward jump must not declare a live
/// node dead (and lose every executor on it), a backward one must not keep a dead node Ready for an hour.
/// </summary>
[Collection(ClockJumpCollection.Name)]
public sealed class ClockJumpTests(ClockJumpFixture fixture)
{
    private static readonly TimeSpan Jump = TimeSpan.FromHours(1);
    private readonly IGrainFactory _grains = fixture.Cluster.Client;

    [Fact]
    public async Task A_heartbeating_node_stays_Ready_when_the_wall_clock_jumps_an_hour_forward()
    {
        var node = await RegisterAsync("clock-forward");
        fixture.Clock.Offset += Jump;
        try
        {
            // Several liveness checks (one a second; the heartbeat timeout is 2 s) while it heartbeats as a node does.
            var watched = Stopwatch.StartNew();
            while (watched.Elapsed < TimeSpan.FromSeconds(4))
            {
                await node.HeartbeatAsync(Info("clock-forward"));
                var state = (await node.GetAsync()).State;
                Assert.True(state == NodeState.Ready, $"the node heartbeats every 0.5 s, yet it is {state} {watched.Elapsed.TotalSeconds:0.0} s after the jump");
                await Task.Delay(TimeSpan.FromMilliseconds(500)); // the node's heartbeat period, not a wait for a state
            }
        }
        finally
        {
            fixture.Clock.Offset -= Jump;
        }
    }

    [Fact]
    public async Task A_node_that_stops_heartbeating_turns_NotReady_within_its_timeout_when_the_wall_clock_jumped_an_hour_back()
    {
        var node = await RegisterAsync("clock-back");
        fixture.Clock.Offset -= Jump;
        try
        {
            await node.HeartbeatAsync(Info("clock-back"));
            // Silent from here: the timeout is 2 s, checked every second.
            await Wait.UntilAsync(
                async () => (await node.GetAsync()).State == NodeState.NotReady,
                "the silent node to be NotReady within its heartbeat timeout (2 s) although the wall clock went back an hour",
                TimeSpan.FromSeconds(10),
                async () => $"{(await node.GetAsync()).State}");
        }
        finally
        {
            fixture.Clock.Offset += Jump;
        }
    }

    private async Task<INodeGrain> RegisterAsync(string name)
    {
        var node = _grains.GetGrain<INodeGrain>($"{name}-{Guid.NewGuid():N}");
        await node.RegisterAsync(Info(node.GetPrimaryKeyString()), []);
        return node;
    }

    private static NodeInfo Info(string name) => new() { Name = name, Allocatable = new ResourceRequirement { Cpu = 1 } };
}

/// <summary>A wall clock an offset away from the system's; its monotonic clock (timestamps, timers) is the system's.</summary>
public sealed class JumpingClock : TimeProvider
{
    private long _offsetTicks;

    /// <summary>How far the wall clock is from the system's; tests move it to make it jump.</summary>
    public TimeSpan Offset
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
        set => Interlocked.Exchange(ref _offsetTicks, value.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

/// <summary>A one-silo cluster of its own whose grains read the time from a <see cref="JumpingClock"/>.</summary>
public sealed class ClockJumpFixture : IAsyncLifetime
{
    // The silo runs in this process; its configurator is made by type, so the clock is reached statically.
    private static readonly JumpingClock SharedClock = new();

    public JumpingClock Clock => SharedClock;

    public TestCluster Cluster { get; } = new TestClusterBuilder(initialSilosCount: 1)
        .AddSiloBuilderConfigurator<SiloConfigurator>()
        .Build();

    public Task InitializeAsync() => Cluster.DeployAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Services.AddSingleton<TimeProvider>(SharedClock);
            silo.Services.AddFlameGrains(ClusterFixture.Limits, ClusterFixture.Execution);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClockJumpCollection : ICollectionFixture<ClockJumpFixture>
{
    public const string Name = "clock-jump";
}
