namespace Flame.ObjectCache.Storage;

/// <summary>
/// What the store keeps of one object besides its payload: the hot row, rewritten on every put and patch, that never
/// holds payload bytes. Patches are always versions <see cref="BaseVersion"/>+1 … <see cref="Version"/>: a put drops
/// them and each patch adds one.
/// </summary>
/// <param name="Key">The full key.</param>
/// <param name="Version">The current version (the last patch's, or the base's when there are none).</param>
/// <param name="BaseVersion">The version the base was written at.</param>
/// <param name="Native">Whether the base is a native Arrow table (an IPC stream) rather than opaque bytes.</param>
/// <param name="Bytes">Payload bytes: base plus patches.</param>
/// <param name="Tag">Changes with every write, so a copy in memory is never mistaken for a later object of the same version.</param>
/// <param name="UpdatedMs">When it was last written, milliseconds since the Unix epoch.</param>
[GenerateSerializer, Immutable, Alias("Flame.ObjectCache.ObjectMeta")]
public sealed record ObjectMeta(
    [property: Id(0)] string Key,
    [property: Id(1)] long Version,
    [property: Id(2)] long BaseVersion,
    [property: Id(3)] bool Native,
    [property: Id(4)] long Bytes,
    [property: Id(5)] Guid Tag,
    [property: Id(6)] long UpdatedMs)
{
    /// <summary>How many patches follow the base.</summary>
    public long Patches => Version - BaseVersion;
}

/// <summary>An object's payload: the base and its patches in version order.</summary>
/// <param name="Base">The base bytes (opaque bytes, or a native table's Arrow IPC stream).</param>
/// <param name="Patches">The patch bytes, versions base+1, base+2, … in order.</param>
[GenerateSerializer, Immutable, Alias("Flame.ObjectCache.ObjectPayload")]
public sealed record ObjectPayload([property: Id(0)] byte[] Base, [property: Id(1)] IReadOnlyList<byte[]> Patches)
{
    /// <summary>Base plus patch bytes.</summary>
    public long Bytes => Base.LongLength + Patches.Sum(p => p.LongLength);
}

/// <summary>
/// Where objects survive a restart: the cluster's store (SQLite on one node, PostgreSQL in a cluster). Metadata in one
/// table, payloads (base and each patch) in another, so that the row rewritten per write holds no payload.
/// </summary>
public interface IObjectStore
{
    /// <summary>The object's metadata, or null when there is no such object.</summary>
    Task<ObjectMeta?> LoadMetaAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The object's payload as of <paramref name="meta"/>, or null when it is gone.</summary>
    Task<ObjectPayload?> LoadPayloadAsync(ObjectMeta meta, CancellationToken cancellationToken = default);

    /// <summary>Writes a new base (dropping every patch) and the metadata, in one transaction.</summary>
    Task PutAsync(ObjectMeta meta, byte[] data, CancellationToken cancellationToken = default);

    /// <summary>Appends the patch of version <c>meta.Version</c> and writes the metadata, in one transaction.</summary>
    Task AppendPatchAsync(ObjectMeta meta, byte[] data, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object, payload and metadata; nothing to delete is fine.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The metadata of every object whose key starts with <paramref name="prefix"/> (all when empty), by key.</summary>
    Task<IReadOnlyList<ObjectMeta>> ListAsync(string prefix, CancellationToken cancellationToken = default);
}
