using Flame.ObjectCache.Storage;

namespace Flame.ObjectCache.Grains;

/// <summary>What a read found.</summary>
public enum ReadOutcome
{
    /// <summary>No such object.</summary>
    NotFound,

    /// <summary>The reader's version is the current one: nothing to send.</summary>
    NotModified,

    /// <summary>The base (and every patch); or, for a native object, its table.</summary>
    Full,

    /// <summary>Only the patches after the reader's version.</summary>
    PatchesOnly,
}

/// <summary>A read: what to send. <see cref="Payload"/> is the one copy in memory, shared by every reader.</summary>
/// <param name="Outcome">What was found.</param>
/// <param name="Meta">The object's metadata (null when not found).</param>
/// <param name="Payload">The payload for <see cref="ReadOutcome.Full"/> and <see cref="ReadOutcome.PatchesOnly"/>.</param>
/// <param name="FirstPatch">For <see cref="ReadOutcome.PatchesOnly"/>: the index in <c>Payload.Patches</c> of the first patch to send.</param>
[GenerateSerializer, Immutable, Alias("Flame.ObjectCache.ObjectRead")]
public sealed record ObjectRead(
    [property: Id(0)] ReadOutcome Outcome,
    [property: Id(1)] ObjectMeta? Meta,
    [property: Id(2)] ObjectPayload? Payload,
    [property: Id(3)] int FirstPatch);

/// <summary>What a patch did.</summary>
public enum PatchOutcome
{
    /// <summary>Appended.</summary>
    Patched,

    /// <summary>No such object.</summary>
    NotFound,

    /// <summary>The object holds the most patches allowed already.</summary>
    TooManyPatches,
}

/// <summary>
/// One cached object, by its full key <c>app/session/object_id</c>: its version, base and patches. Calls on one key are
/// serialised by the grain, so every read is a consistent snapshot and versions never go backwards.
/// </summary>
[Alias("Flame.ObjectCache.IObjectGrain")]
public interface IObjectGrain : IGrainWithStringKey
{
    /// <summary>Replaces the object (the payload is passed, not copied) (a new one starts at version 1), dropping its patches; returns the new version.</summary>
    [Alias("Put")]
    Task<long> PutAsync(Immutable<byte[]> data, bool native);

    /// <summary>Appends a patch after the existing ones; the new version with <see cref="PatchOutcome.Patched"/>.</summary>
    [Alias("Patch")]
    Task<(PatchOutcome Outcome, long Version)> PatchAsync(Immutable<byte[]> data);

    /// <summary>What a reader that holds version <paramref name="known"/> (0: none) must receive (flame-object-cache §5.3).</summary>
    [Alias("Read")]
    Task<ObjectRead> ReadAsync(long known);

    /// <summary>The object's metadata, or null when there is none.</summary>
    [Alias("Describe")]
    Task<ObjectMeta?> DescribeAsync();

    /// <summary>Deletes the object from memory and the store; a later put starts again at version 1.</summary>
    [Alias("Delete")]
    Task DeleteAsync();
}
