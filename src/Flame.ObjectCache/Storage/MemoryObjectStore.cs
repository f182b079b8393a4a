namespace Flame.ObjectCache.Storage;

/// <summary>Objects in this process only (<c>Flame:Storage:Provider=Memory</c>): lost when it stops.</summary>
public sealed class MemoryObjectStore : IObjectStore
{
    private readonly Dictionary<string, (ObjectMeta Meta, byte[] Base, List<byte[]> Patches)> _objects = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<ObjectMeta?> LoadMetaAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_objects)
            return Task.FromResult(_objects.TryGetValue(key, out var o) ? o.Meta : null);
    }

    /// <inheritdoc />
    public Task<ObjectPayload?> LoadPayloadAsync(ObjectMeta meta, CancellationToken cancellationToken = default)
    {
        lock (_objects)
        {
            return Task.FromResult(_objects.TryGetValue(meta.Key, out var o) && o.Meta.Tag == meta.Tag
                ? new ObjectPayload(o.Base, [.. o.Patches])
                : null);
        }
    }

    /// <inheritdoc />
    public Task PutAsync(ObjectMeta meta, byte[] data, CancellationToken cancellationToken = default)
    {
        lock (_objects)
            _objects[meta.Key] = (meta, data, []);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task AppendPatchAsync(ObjectMeta meta, byte[] data, CancellationToken cancellationToken = default)
    {
        lock (_objects)
        {
            var o = _objects[meta.Key];
            o.Patches.Add(data);
            _objects[meta.Key] = (meta, o.Base, o.Patches);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_objects)
            _objects.Remove(key);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ObjectMeta>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        lock (_objects)
        {
            IReadOnlyList<ObjectMeta> found = [.. _objects.Values.Select(o => o.Meta)
                .Where(m => m.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(m => m.Key, StringComparer.Ordinal)];
            return Task.FromResult(found);
        }
    }
}
