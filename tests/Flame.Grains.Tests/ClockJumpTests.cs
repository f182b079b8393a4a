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

    // A tenth of the timeout, as a node's default (2 s of 10 s): a loaded machine does not make a live node look silent.
    private static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(1);
    private readonly IGrainFactory _grains = fixture.Cluster.Client;

    [Fact]
    public async Task A_heartbeating_node_stays_Ready_when_the_wall_clock_jumps_an_hour_forward()
    {
        var node = await RegisterAsync("clock-forward"); // its first heartbeat
        fixture.Clock.Offset += Jump;
        try
        {
            // A live node's next heartbeats come a period later; between them the liveness checks (one a second) run.
            for (var beat = 0; beat < 3; beat++)
            {
                await Task.Delay(HeartbeatPeriod); // the node's heartbeat period, not a wait for a state
                var state = (await node.GetAsync()).State;
                Assert.True(state == NodeState.Ready, $"the node heartbeats every {HeartbeatPeriod.TotalSeconds:0} s, yet it is {state} before heartbeat {beat + 2}, after the jump");
                await node.HeartbeatAsync(Info(node.GetPrimaryKeyString()));
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
        var node = await RegisterAsync("clock-back"); // its last heartbeat
        fixture.Clock.Offset -= Jump;
        try
        {
            await Wait.UntilAsync(
                async () => (await node.GetAsync()).State == NodeState.NotReady,
                $"the silent node to be NotReady within its heartbeat timeout ({ClockJumpFixture.Execution.NodeHeartbeatTimeoutSeconds} s) although the wall clock went back an hour",
                TimeSpan.FromSeconds(3 * ClockJumpFixture.Execution.NodeHeartbeatTimeoutSeconds),
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
    /// <summary>The cluster's execution options with the default heartbeat timeout (10 s), so that a loaded machine's pauses stay within it.</summary>
    public static readonly FlameExecutionOptions Execution = new()
    {
        MaxTaskAttempts = 3,
        DefaultDelayReleaseSeconds = 0,
        NodeHeartbeatTimeoutSeconds = 10,
        LongPollSlice = TimeSpan.FromSeconds(2),
    };

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
            silo.Services.AddFlameGrains(ClusterFixture.Limits, Execution);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClockJumpCollection : ICollectionFixture<ClockJumpFixture>
{
    public const string Name = "clock-jump";
}
