namespace Flame.EndToEnd.Tests.Support;

/// <summary>
/// A session manager (the embedded executor manager and the built-in application turned off) and two standalone
/// executor managers of two slots each. Every task runs at most <see cref="ClusterFixture.MaxTaskAttempts"/> times;
/// <see cref="ClusterFixture.MaxBindingFailures"/> failed session enters in a row fail a session's pending tasks.
/// </summary>
public abstract class TwoNodeClusterFixture(string name, string[] nodes, int nodeHeartbeatTimeoutSeconds, TimeSpan? taskTimeout) : IAsyncLifetime
{
    private FlameCluster? _cluster;

    public FlameCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster is not started");

    /// <summary>The names of the two nodes.</summary>
    public IReadOnlyList<string> Nodes => nodes;

    public async Task InitializeAsync()
    {
        _cluster = await FlameCluster.StartAsync(name, ClusterSettings.SessionManager(nodeHeartbeatTimeoutSeconds));
        var environment = ClusterSettings.ExecutorManager(taskTimeout);
        await Task.WhenAll(nodes.Select(node => _cluster.StartExecutorManagerAsync(node, slots: 2, environment)));
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }
}

/// <summary>Nodes <c>em-s1</c> and <c>em-s2</c> for the scheduling scenarios alone: no other test's sessions compete for them.</summary>
public sealed class SchedulingFixture() : TwoNodeClusterFixture("scheduling", ["em-s1", "em-s2"], nodeHeartbeatTimeoutSeconds: 10, taskTimeout: null);

[CollectionDefinition(Name)]
public sealed class SchedulingCollection : ICollectionFixture<SchedulingFixture>
{
    public const string Name = "scheduling";
}

/// <summary>
/// Nodes <c>em-a</c> and <c>em-b</c>, a 10 s heartbeat timeout and a <see cref="TaskTimeout"/> per task; shared by
/// the scenarios that leave every node running (collection <see cref="ClusterCollection"/>).
/// </summary>
public sealed class ClusterFixture() : TwoNodeClusterFixture("cluster", ["em-a", "em-b"], nodeHeartbeatTimeoutSeconds: 10, TaskTimeout)
{
    public const int MaxTaskAttempts = 3;
    public const int MaxBindingFailures = 3;
    public static readonly TimeSpan TaskTimeout = TimeSpan.FromSeconds(3);
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "two executor managers";
}

/// <summary>
/// Nodes <c>em-1</c> and <c>em-2</c>, a <see cref="NodeHeartbeatTimeoutSeconds"/> heartbeat timeout, no task timeout:
/// for the scenario that kills an executor manager (collection <see cref="FailoverCollection"/>).
/// </summary>
public sealed class FailoverFixture() : TwoNodeClusterFixture("failover", ["em-1", "em-2"], NodeHeartbeatTimeoutSeconds, taskTimeout: null)
{
    public const int NodeHeartbeatTimeoutSeconds = 3;
}

[CollectionDefinition(Name)]
public sealed class FailoverCollection : ICollectionFixture<FailoverFixture>
{
    public const string Name = "failover";
}

/// <summary>
/// Nodes <c>em-p</c> and <c>em-q</c>, like <see cref="FailoverFixture"/>, for the scenarios that leave a node unhealthy
/// (collection <see cref="NodeFaultCollection"/>).
/// </summary>
public sealed class NodeFaultFixture() : TwoNodeClusterFixture("node-faults", ["em-p", "em-q"], FailoverFixture.NodeHeartbeatTimeoutSeconds, taskTimeout: null);

[CollectionDefinition(Name)]
public sealed class NodeFaultCollection : ICollectionFixture<NodeFaultFixture>
{
    public const string Name = "node faults";
}

/// <summary>
/// The one-command cluster: a session manager started with nothing but free ports (so with its embedded executor
/// manager and the built-in flmping application), pinged by the real flmping program.
/// </summary>
public sealed class EmbeddedClusterFixture : IAsyncLifetime
{
    private FlameCluster? _cluster;

    public FlameCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster is not started");

    public async Task InitializeAsync()
    {
        _cluster = await FlameCluster.StartAsync("embedded");
        await _cluster.UntilEmbeddedNodeAndFlmpingAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
    }
}

/// <summary>The configuration the end-to-end clusters share.</summary>
public static class ClusterSettings
{
    public static Dictionary<string, string> SessionManager(int nodeHeartbeatTimeoutSeconds) => new()
    {
        ["Flame:SessionManager:EmbeddedExecutorManager"] = "false",
        ["Flame:SessionManager:RegisterBuiltInApplications"] = "false",
        ["Flame:SessionManager:ClusterId"] = "e2e-" + Guid.NewGuid().ToString("N")[..8],
        ["Flame:Execution:MaxTaskAttempts"] = ClusterFixture.MaxTaskAttempts.ToString(),
        ["Flame:Execution:MaxBindingFailures"] = ClusterFixture.MaxBindingFailures.ToString(),
        ["Flame:Execution:DefaultDelayReleaseSeconds"] = "1",
        ["Flame:Execution:NodeHeartbeatTimeoutSeconds"] = nodeHeartbeatTimeoutSeconds.ToString(),
        // One line per log entry, so that the tails in failure messages read well.
        ["Logging:Console:FormatterName"] = "simple",
        ["Logging:Console:FormatterOptions:SingleLine"] = "true",
        ["Logging:Console:FormatterOptions:TimestampFormat"] = "HH:mm:ss.fff ",
    };

    /// <summary>
    /// The executor managers' keys that have no switch, as environment variables. Heartbeats every half second, so
    /// that a loaded machine never makes a live node miss the heartbeat timeout.
    /// </summary>
    public static Dictionary<string, string?> ExecutorManager(TimeSpan? taskTimeout)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Flame__ExecutorManager__HeartbeatInterval"] = "00:00:00.500",
        };
        if (taskTimeout is { } timeout)
            environment["Flame__ExecutorManager__TaskTimeout"] = timeout.ToString("c");
        return environment;
    }
}
