using Grpc.Core;

namespace Flame.ObjectCache.Tests;

/// <summary>The .NET client API over the same protocol, against the real cache.</summary>
public sealed class ObjectCacheClientTests(CacheFixture fixture) : IClassFixture<CacheFixture>
{
    [Fact]
    public async Task TheClient_PutsGetsPatchesUpdatesAndDeletes_AndReadsOnlyWhatChanged()
    {
        using var client = new ObjectCacheClient(fixture.Cache.Address.Replace("http://", "grpc://", StringComparison.Ordinal));
        var put = await client.PutObjectAsync("api/s1", "base"u8.ToArray());
        Assert.Equal(1, put.Version);
        Assert.Equal(FlightCache.Advertised, put.Endpoint);
        // Refs point at the advertised endpoint; the test reaches the same cache through its real address.
        var local = put with { Endpoint = fixture.Cache.Address.Replace("http://", "grpc://", StringComparison.Ordinal) };

        var first = await client.GetObjectAsync(local);
        Assert.Equal("base"u8.ToArray(), first.Base);
        // Not modified: the object held here comes back as it is.
        Assert.Same(first, await client.GetObjectAsync(local));

        var patched = await client.PatchObjectAsync(local, "p1"u8.ToArray());
        Assert.Equal(2, patched.Version);
        var withPatch = await client.GetObjectAsync(local);
        Assert.Equal(2, withPatch.Version);
        Assert.Equal(["p1"u8.ToArray()], withPatch.Patches);

        Assert.Equal(3, (await client.UpdateObjectAsync(local, "new"u8.ToArray())).Version);
        var updated = await client.GetObjectAsync(local);
        Assert.Equal("new"u8.ToArray(), updated.Base);
        Assert.Empty(updated.Patches);

        Assert.Contains(await client.ListObjectsAsync(), o => o.Key == put.Key && o.Bytes == 3);
        await client.DeleteObjectsAsync("api/s1");
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => client.GetObjectAsync(local))).StatusCode);
    }
}
