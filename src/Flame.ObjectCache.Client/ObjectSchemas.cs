using Apache.Arrow;
using Apache.Arrow.Types;

namespace Flame.ObjectCache;

/// <summary>The Arrow schemas and schema-metadata keys of Flame's object cache (flame-object-cache §4).</summary>
public static class ObjectSchemas
{
    /// <summary>Schema metadata key marking a native Arrow table payload.</summary>
    public const string FormatKey = "flame.cache.format";

    /// <summary>The value of <see cref="FormatKey"/> for a native table.</summary>
    public const string NativeFormat = "arrow-table-v1";

    /// <summary>Schema metadata key holding the object's version as decimal text.</summary>
    public const string VersionKey = "flame.cache.version";

    /// <summary>Schema metadata key naming how the client rebuilds a native table.</summary>
    public const string LogicalTypeKey = "flame.cache.logical_type";

    /// <summary>The <c>kind</c> of a base row in a read response.</summary>
    public const string BaseKind = "base";

    /// <summary>The <c>kind</c> of a patch row in a read response.</summary>
    public const string PatchKind = "patch";

    /// <summary>What flamepy sends for an opaque put or patch: <c>version: uint64?, data: binary?</c>, no metadata.</summary>
    public static Schema Upload { get; } = new Schema.Builder()
        .Field(new Field("version", UInt64Type.Default, nullable: true))
        .Field(new Field("data", BinaryType.Default, nullable: true))
        .Build();

    /// <summary>The read response of an opaque object: <c>version: uint64, kind: utf8, data: binary</c>, no metadata.</summary>
    public static Schema Response { get; } = new Schema.Builder()
        .Field(new Field("version", UInt64Type.Default, nullable: false))
        .Field(new Field("kind", StringType.Default, nullable: false))
        .Field(new Field("data", BinaryType.Default, nullable: false))
        .Build();

    /// <summary>Whether <paramref name="schema"/> marks a native table (<c>flame.cache.format=arrow-table-v1</c>).</summary>
    public static bool IsNative(Schema schema) =>
        schema.Metadata is { } metadata && metadata.TryGetValue(FormatKey, out var format) && format == NativeFormat;

    /// <summary>One upload row <c>(0, data)</c> in the <see cref="Upload"/> schema.</summary>
    public static RecordBatch UploadBatch(ReadOnlyMemory<byte> data)
    {
        var versions = new UInt64Array.Builder().Append(0).Build();
        var bytes = new BinaryArray.Builder().Append(data.Span).Build();
        return new RecordBatch(Upload, [versions, bytes], 1);
    }
}
