using Flame.ObjectCache.Hosting;
using Flame.ObjectCache.Storage;
using Microsoft.Extensions.Options;

namespace Flame.ObjectCache.Grains;

/// <summary>
/// One object: its metadata in the grain (loaded from the store on activation), its payload in the silo's
/// <see cref="ObjectMemory"/> (loaded from the store when evicted), every write to the store before it is answered.
/// </summary>
public sealed class ObjectGrain(IObjectStore store, ObjectMemory memory, IOptions<FlameObjectCacheOptions> options, TimeProvider time)
    : Grain, IObjectGrain
{
    private ObjectMeta? _meta;

    private string Key => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken) =>
        _meta = await store.LoadMetaAsync(Key, cancellationToken);

    /// <inheritdoc />
    public async Task<long> PutAsync(Immutable<byte[]> payload, bool native)
    {
        var data = payload.Value;
        var meta = new ObjectMeta(Key, (_meta?.Version ?? 0) + 1, 0, native, data.LongLength, Guid.NewGuid(), time.GetUtcNow().ToUnixTimeMilliseconds());
        meta = meta with { BaseVersion = meta.Version };
        await store.PutAsync(meta, data);
        _meta = meta;
        memory.Put(Key, meta.Tag, new ObjectPayload(data, []));
        return meta.Version;
    }

    /// <inheritdoc />
    public async Task<(PatchOutcome Outcome, long Version)> PatchAsync(Immutable<byte[]> patch)
    {
        var data = patch.Value;
        if (_meta is null)
            return (PatchOutcome.NotFound, 0);
        if (_meta.Patches >= options.Value.MaxPatches)
            return (PatchOutcome.TooManyPatches, _meta.Version);
        var payload = await PayloadAsync(_meta);
        var meta = _meta with
        {
            Version = _meta.Version + 1,
            Bytes = _meta.Bytes + data.LongLength,
            Tag = Guid.NewGuid(),
            UpdatedMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        await store.AppendPatchAsync(meta, data);
        _meta = meta;
        memory.Put(Key, meta.Tag, payload with { Patches = [.. payload.Patches, data] });
        return (PatchOutcome.Patched, meta.Version);
    }

    /// <inheritdoc />
    public async Task<ObjectRead> ReadAsync(long known)
    {
        if (_meta is not { } meta)
            return new ObjectRead(ReadOutcome.NotFound, null, null, 0);
        if (known != 0 && known == meta.Version)
            return new ObjectRead(ReadOutcome.NotModified, meta, null, 0);
        var payload = await PayloadAsync(meta);
        // Patches are versions base+1 … cur, so a reader at base ≤ v < cur misses exactly v+1 … cur.
        if (!meta.Native && known > 0 && known < meta.Version && known >= meta.BaseVersion)
            return new ObjectRead(ReadOutcome.PatchesOnly, meta, payload, (int)(known - meta.BaseVersion));
        return new ObjectRead(ReadOutcome.Full, meta, payload, 0);
    }

    /// <inheritdoc />
    public Task<ObjectMeta?> DescribeAsync() => Task.FromResult(_meta);

    /// <inheritdoc />
    public async Task DeleteAsync()
    {
        await store.DeleteAsync(Key);
        memory.Remove(Key);
        _meta = null;
        DeactivateOnIdle();
    }

    private async Task<ObjectPayload> PayloadAsync(ObjectMeta meta)
    {
        if (memory.Get(Key, meta.Tag) is { } held)
            return held;
        var loaded = await store.LoadPayloadAsync(meta)
            ?? throw new InvalidOperationException($"object {Key} version {meta.Version}: its payload is missing from the store");
        memory.Put(Key, meta.Tag, loaded);
        return loaded;
    }
}
