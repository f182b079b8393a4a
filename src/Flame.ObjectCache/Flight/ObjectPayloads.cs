using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Flame.ObjectCache.Storage;
using Grpc.Core;

namespace Flame.ObjectCache.Flight;

/// <summary>
/// Arrow in and out of the cache (flame-object-cache §4): what a put's batches become (opaque bytes, or a native
/// table kept as an Arrow IPC stream), and the batches a read answers with.
/// </summary>
internal static class ObjectPayloads
{
    /// <summary>
    /// The bytes to store for an upload: for an opaque upload (column 0 UInt64, column 1 Binary; names and nullability
    /// ignored) column 1 of every row of every batch concatenated; for a native table, the schema and batches as an IPC
    /// stream. Throws <c>INVALID_ARGUMENT</c> when there is nothing, <c>INTERNAL</c> for the wrong column types.
    /// </summary>
    public static (byte[] Data, bool Native) FromUpload(Schema schema, IReadOnlyList<RecordBatch> batches, bool patch)
    {
        if (!patch && ObjectSchemas.IsNative(schema))
        {
            // An empty table comes as one zero-row batch; Flame refuses it, flamepy can send it: we keep it.
            if (batches.Count == 0)
                throw Fail(StatusCode.InvalidArgument, "No data received: the put carried no record batch");
            using var stream = new MemoryStream();
            using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
            {
                foreach (var batch in batches)
                    writer.WriteRecordBatch(batch);
                writer.WriteEnd();
            }
            return (stream.ToArray(), true);
        }
        if (schema.FieldsList.Count < 2 || schema.FieldsList[0].DataType.TypeId != ArrowTypeId.UInt64
            || schema.FieldsList[1].DataType.TypeId != ArrowTypeId.Binary)
        {
            throw Fail(StatusCode.Internal,
                $"an opaque payload needs column 0 UInt64 and column 1 Binary; got {string.Join(", ", schema.FieldsList.Select(f => $"{f.Name}: {f.DataType.Name}"))}");
        }
        long total = 0;
        var rows = 0;
        foreach (var batch in batches)
        {
            var column = (BinaryArray)batch.Column(1);
            rows += batch.Length;
            for (var i = 0; i < column.Length; i++)
                total += column.GetBytes(i).Length;
        }
        if (rows == 0)
            throw Fail(StatusCode.InvalidArgument, "No data received: the put carried no row");
        if (total > System.Array.MaxLength)
            throw Fail(StatusCode.InvalidArgument, $"the object is {total} bytes; an object is one Arrow Binary value, less than 2 GiB");
        var data = new byte[total];
        var at = 0;
        foreach (var batch in batches)
        {
            var column = (BinaryArray)batch.Column(1);
            for (var i = 0; i < column.Length; i++)
            {
                var bytes = column.GetBytes(i);
                bytes.CopyTo(data.AsSpan(at));
                at += bytes.Length;
            }
        }
        return (data, false);
    }

    /// <summary>One response row as a batch over the stored bytes themselves (no copy of the payload).</summary>
    public static RecordBatch Row(long version, string kind, byte[] data)
    {
        var versions = new UInt64Array.Builder().Append((ulong)version).Build();
        var kinds = new StringArray.Builder().Append(kind).Build();
        var offsets = new ArrowBuffer.Builder<int>().Append(0).Append(data.Length).Build();
        var bytes = new BinaryArray(BinaryType.Default, 1, offsets, new ArrowBuffer(data), ArrowBuffer.Empty);
        return new RecordBatch(ObjectSchemas.Response, [versions, kinds, bytes], 1);
    }

    /// <summary>
    /// A stored native table: its schema with <c>flame.cache.format</c> and <c>flame.cache.version</c> set to the base
    /// version (other metadata kept in order), and its batches.
    /// </summary>
    public static (Schema Schema, IReadOnlyList<RecordBatch> Batches) Native(ObjectMeta meta, byte[] stored)
    {
        using var reader = new ArrowStreamReader(new MemoryStream(stored, writable: false));
        var batches = new List<RecordBatch>();
        while (reader.ReadNextRecordBatch() is { } batch)
            batches.Add(batch);
        return (Stamp(reader.Schema, meta.BaseVersion), batches);
    }

    /// <summary>Only the schema of a stored native table, stamped as <see cref="Native"/> does.</summary>
    public static Schema NativeSchema(ObjectMeta meta, byte[] stored)
    {
        using var reader = new ArrowStreamReader(new MemoryStream(stored, writable: false));
        return Stamp(reader.Schema, meta.BaseVersion);
    }

    private static Schema Stamp(Schema schema, long version)
    {
        var metadata = new Dictionary<string, string>(schema.Metadata ?? new Dictionary<string, string>())
        {
            [ObjectSchemas.FormatKey] = ObjectSchemas.NativeFormat,
            [ObjectSchemas.VersionKey] = version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return new Schema(schema.FieldsList, metadata);
    }

    /// <summary>An error status for a Flight call.</summary>
    public static RpcException Fail(StatusCode code, string message) => new(new Status(code, message));
}
