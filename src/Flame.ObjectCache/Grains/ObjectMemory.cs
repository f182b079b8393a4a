using Flame.ObjectCache.Storage;

namespace Flame.ObjectCache.Grains;

/// <summary>
/// The payloads this silo holds in memory, least recently used first out when over <c>MaxMemory</c> bytes or
/// <c>MaxObjects</c> objects (flame-object-cache §9). Only the copy in memory goes: the grain keeps the metadata and the
/// store keeps the payload, so an evicted object is read from the store on its next read. One per silo, shared by every
/// object grain activated there; thread-safe.
/// </summary>
public sealed class ObjectMemory
{
    private readonly long _maxBytes;
    private readonly int _maxObjects;
    private readonly bool _evict;
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

    /// <summary>Limits: <paramref name="maxBytes"/> payload bytes, <paramref name="maxObjects"/> objects (0: no limit); <paramref name="evict"/> false keeps everything.</summary>
    public ObjectMemory(long maxBytes, int maxObjects, bool evict)
    {
        _maxBytes = maxBytes;
        _maxObjects = maxObjects;
        _evict = evict;
    }

    private sealed record Entry(string Key, Guid Tag, ObjectPayload Payload);

    /// <summary>Payload bytes held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_recency)
                return _bytes;
        }
    }

    /// <summary>Objects held now.</summary>
    public int Count
    {
        get
        {
            lock (_recency)
                return _entries.Count;
        }
    }

    /// <summary>The payload of <paramref name="key"/> written as <paramref name="tag"/>, now the most recently used; null when not held.</summary>
    public ObjectPayload? Get(string key, Guid tag)
    {
        lock (_recency)
        {
            if (!_entries.TryGetValue(key, out var node) || node.Value.Tag != tag)
                return null;
            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Payload;
        }
    }

    /// <summary>Holds <paramref name="payload"/> as the most recent, replacing any older copy, then evicts while over the limits.</summary>
    public void Put(string key, Guid tag, ObjectPayload payload)
    {
        lock (_recency)
        {
            RemoveLocked(key);
            _entries[key] = _recency.AddFirst(new Entry(key, tag, payload));
            _bytes += payload.Bytes;
            // Flame evicts even the object just put when it alone is over the limit: its next read comes from the store.
            while (_evict && _recency.Last is { } oldest && ((_maxBytes > 0 && _bytes > _maxBytes) || (_maxObjects > 0 && _entries.Count > _maxObjects)))
                RemoveLocked(oldest.Value.Key);
        }
    }

    /// <summary>Drops the copy of <paramref name="key"/>, if held.</summary>
    public void Remove(string key)
    {
        lock (_recency)
            RemoveLocked(key);
    }

    private void RemoveLocked(string key)
    {
        if (!_entries.Remove(key, out var node))
            return;
        _recency.Remove(node);
        _bytes -= node.Value.Payload.Bytes;
    }
}
