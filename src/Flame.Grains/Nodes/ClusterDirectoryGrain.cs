namespace Flame.Grains.Nodes;

/// <summary>
/// The nodes and executors known to the cluster. See <see cref="IClusterDirectoryGrain"/>.
/// Executor managers register here once the execution plane exists; until then it is empty.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class ClusterDirectoryGrain : Grain, IClusterDirectoryGrain
{
    private readonly SortedDictionary<string, NodeInfo> _nodes = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, ExecutorInfo> _executors = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<NodeInfo>> ListNodesAsync() =>
        Task.FromResult<IReadOnlyList<NodeInfo>>(_nodes.Values.ToArray());

    public Task<NodeInfo> GetNodeAsync(string name)
    {
        FlameIds.ValidateNodeName(name);
        return _nodes.TryGetValue(name, out var node)
            ? Task.FromResult(node)
            : throw FlameException.NotFound($"node '{name}' not found");
    }

    public Task<IReadOnlyList<ExecutorInfo>> ListExecutorsAsync() =>
        Task.FromResult<IReadOnlyList<ExecutorInfo>>(_executors.Values.ToArray());
}
