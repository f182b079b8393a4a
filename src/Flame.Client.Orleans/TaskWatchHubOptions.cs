namespace Flame.Client;

/// <summary>Settings of a <see cref="TaskWatchHub"/>.</summary>
public sealed class TaskWatchHubOptions
{
    /// <summary>
    /// When a watched task has shown no change for this long, the hub asks its session grain again (and
    /// registers again), in case a one-way notification was lost, e.g. with a silo that died.
    /// Default: 30 seconds.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
