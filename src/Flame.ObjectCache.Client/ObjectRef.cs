using System.Buffers.Binary;
using System.Text;

namespace Flame.ObjectCache;

/// <summary>
/// A reference to a cached object, as Flame's SDKs pass it around: the cache's advertised endpoint, the full key, and the
/// version the holder knows (0: none, fetch in full). Its wire form is a BSON document of exactly these three elements
/// in this order (flame-object-cache §3): what <c>PutResult.app_metadata</c>, a session's <c>common_data</c> and a Runner
/// task's output carry.
/// </summary>
/// <param name="Endpoint">The cache's advertised URI, e.g. <c>grpc://10.0.0.7:9090</c>.</param>
/// <param name="Key">The full key <c>app/session/object_id</c>.</param>
/// <param name="Version">The version; 0 when unknown.</param>
public sealed record ObjectRef(string Endpoint, string Key, long Version)
{
    private const byte StringType = 0x02;
    private const byte Int32Type = 0x10;
    private const byte Int64Type = 0x12;

    /// <summary>The BSON document: <c>endpoint</c> and <c>key</c> as strings, <c>version</c> as int64.</summary>
    public byte[] ToBson()
    {
        using var body = new MemoryStream();
        WriteString(body, "endpoint", Endpoint);
        WriteString(body, "key", Key);
        body.WriteByte(Int64Type);
        WriteCString(body, "version");
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(number, Version);
        body.Write(number);
        var length = 4 + (int)body.Length + 1;
        var document = new byte[length];
        BinaryPrimitives.WriteInt32LittleEndian(document, length);
        body.ToArray().CopyTo(document, 4);
        return document;
    }

    /// <summary>
    /// Reads a ref from its BSON document; <c>version</c> may be int32 or int64 (flamepy encodes a ref it builds itself
    /// with a small int as int32).
    /// </summary>
    /// <exception cref="FormatException">Not a BSON document with a string <c>endpoint</c>, a string <c>key</c> and an integer <c>version</c>.</exception>
    public static ObjectRef FromBson(ReadOnlySpan<byte> document)
    {
        if (document.Length < 5 || BinaryPrimitives.ReadInt32LittleEndian(document) != document.Length || document[^1] != 0)
            throw new FormatException("not a BSON document: its length prefix does not match its size");
        string? endpoint = null, key = null;
        long? version = null;
        var at = 4;
        while (at < document.Length - 1)
        {
            var type = document[at++];
            var name = ReadCString(document, ref at);
            switch (type)
            {
                case StringType:
                    var length = BinaryPrimitives.ReadInt32LittleEndian(document[at..]);
                    if (length < 1 || at + 4 + length > document.Length)
                        throw new FormatException($"BSON string '{name}' runs past the document");
                    var value = Encoding.UTF8.GetString(document.Slice(at + 4, length - 1));
                    at += 4 + length;
                    if (name == "endpoint")
                        endpoint = value;
                    else if (name == "key")
                        key = value;
                    break;
                case Int32Type:
                    if (name == "version")
                        version = BinaryPrimitives.ReadInt32LittleEndian(document[at..]);
                    at += 4;
                    break;
                case Int64Type:
                    if (name == "version")
                        version = BinaryPrimitives.ReadInt64LittleEndian(document[at..]);
                    at += 8;
                    break;
                default:
                    throw new FormatException($"BSON element '{name}' has type 0x{type:x2}; an object ref holds strings and integers only");
            }
        }
        if (endpoint is null || key is null || version is null)
            throw new FormatException("not an object ref: it needs the elements endpoint, key and version");
        return new ObjectRef(endpoint, key, version.Value);
    }

    private static void WriteString(Stream stream, string name, string value)
    {
        stream.WriteByte(StringType);
        WriteCString(stream, name);
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length + 1);
        stream.Write(length);
        stream.Write(bytes);
        stream.WriteByte(0);
    }

    private static void WriteCString(Stream stream, string name)
    {
        stream.Write(Encoding.UTF8.GetBytes(name));
        stream.WriteByte(0);
    }

    private static string ReadCString(ReadOnlySpan<byte> document, ref int at)
    {
        var end = document[at..].IndexOf((byte)0);
        if (end < 0)
            throw new FormatException("BSON element name is not terminated");
        var name = Encoding.UTF8.GetString(document.Slice(at, end));
        at += end + 1;
        return name;
    }
}
