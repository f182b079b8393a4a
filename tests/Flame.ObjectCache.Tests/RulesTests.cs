using Flame.ObjectCache.Grains;
using Flame.ObjectCache.Hosting;
using Flame.ObjectCache.Storage;

namespace Flame.ObjectCache.Tests;

/// <summary>The pure rules: refs in BSON, keys, sizes, and which payloads memory keeps.</summary>
public sealed class RulesTests
{
    [Fact]
    public void ObjectRef_EncodesTheSpecsExampleByteForByte()
    {
        var expected = Convert.FromHexString(
            "4f000000" + "02656e64706f696e7400" + "15000000677270633a2f2f31302e302e302e373a3930393000"
            + "026b657900" + "0d00000064656d6f2f73312f6f626a3100" + "1276657273696f6e00" + "0100000000000000" + "00");
        var bson = new ObjectRef("grpc://10.0.0.7:9090", "demo/s1/obj1", 1).ToBson();
        Assert.Equal(79, bson.Length);
        Assert.Equal(expected, bson);
        Assert.Equal(new ObjectRef("grpc://10.0.0.7:9090", "demo/s1/obj1", 1), ObjectRef.FromBson(expected));
    }

    [Fact]
    public void ObjectRef_DecodesAnInt32Version_AsFlamepyWritesForRefsItBuilds()
    {
        var int64 = new ObjectRef("grpc://h:9090", "a/b/c", 7).ToBson();
        // Rewrite the version element as int32 (type 0x10, 4 bytes): the document is 4 bytes shorter.
        var at = int64.Length - 1 - 8 - "version".Length - 2;
        var int32 = int64[..at].Concat(new byte[] { 0x10 }).Concat("version\0"u8.ToArray()).Concat(BitConverter.GetBytes(7)).Concat(new byte[] { 0 }).ToArray();
        BitConverter.GetBytes(int32.Length).CopyTo(int32, 0);
        Assert.Equal(new ObjectRef("grpc://h:9090", "a/b/c", 7), ObjectRef.FromBson(int32));
    }

    [Theory]
    [InlineData("demo/s1", ObjectKeyKind.Prefix)]
    [InlineData("demo/s1/obj.tar.gz", ObjectKeyKind.Full)]
    [InlineData("demo", ObjectKeyKind.Invalid)]
    [InlineData("demo//x", ObjectKeyKind.Invalid)]
    [InlineData("demo/../x", ObjectKeyKind.Invalid)]
    [InlineData("demo/a\\b/x", ObjectKeyKind.Invalid)]
    [InlineData("demo/*/x", ObjectKeyKind.Invalid)]
    [InlineData("demo/s1/a:b", ObjectKeyKind.Invalid)]
    [InlineData("a/b/c/d", ObjectKeyKind.Invalid)]
    public void Keys_AreClassifiedAsTheSpecSays(string key, ObjectKeyKind kind) => Assert.Equal(kind, ObjectKeys.Classify(key));

    [Theory]
    [InlineData("demo/s1/x", "demo/s1/x")]
    [InlineData("demo/s1", "demo/s1/")]
    [InlineData("demo/*", "demo/")]
    [InlineData("demo", null)]
    [InlineData("demo/*/x", null)]
    [InlineData("*/s", null)]
    public void DeleteBodies_NameAnObjectASessionOrAnApp(string body, string? target) => Assert.Equal(target, ObjectKeys.DeleteTarget(body));

    [Theory]
    [InlineData("512", 512L)]
    [InlineData("64K", 64L * 1024)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1G", 1L << 30)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("2gb", 2L << 30)]
    [InlineData("1T", 1L << 40)]
    public void Sizes_UseBinaryUnits(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("1X")]
    [InlineData("-1")]
    [InlineData("G")]
    public void Sizes_ThatAreNotSizes_AreRefused(string text) => Assert.Throws<FormatException>(() => ByteSize.Parse(text));

    [Fact]
    public void Memory_EvictsTheLeastRecentlyUsed_WhenOverItsByteLimit()
    {
        var memory = new ObjectMemory(maxBytes: 250, maxObjects: 0, evict: true);
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        memory.Put("x/y/a", a, new ObjectPayload(new byte[100], []));
        memory.Put("x/y/b", b, new ObjectPayload(new byte[100], []));
        Assert.NotNull(memory.Get("x/y/a", a)); // a is now more recent than b
        memory.Put("x/y/c", c, new ObjectPayload(new byte[100], []));
        Assert.Null(memory.Get("x/y/b", b));
        Assert.NotNull(memory.Get("x/y/a", a));
        Assert.NotNull(memory.Get("x/y/c", c));
        Assert.Equal(200, memory.Bytes);
    }

    [Fact]
    public void Memory_KeepsEverything_WithPolicyNone_AndNeverServesAnOlderWrite()
    {
        var memory = new ObjectMemory(maxBytes: 10, maxObjects: 1, evict: false);
        var (old, now) = (Guid.NewGuid(), Guid.NewGuid());
        memory.Put("x/y/a", old, new ObjectPayload(new byte[100], []));
        memory.Put("x/y/b", now, new ObjectPayload(new byte[100], []));
        Assert.Equal(2, memory.Count);
        Assert.Null(memory.Get("x/y/a", now));
    }
}
