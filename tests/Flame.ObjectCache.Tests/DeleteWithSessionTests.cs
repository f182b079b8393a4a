using Flame.Client;

namespace Flame.ObjectCache.Tests;

/// <summary>
/// <c>Flame:ObjectCache:DeleteWithSession</c>: a session deleted through the gateway takes its objects with it, or leaves
/// them (Flame's behaviour), against a real session manager, its gateway and its Flight server.
/// </summary>
public sealed class DeleteWithSessionTests
{
    [Fact]
    public async Task WithDeleteWithSession_DeletingASession_DeletesItsObjects_AndNoOtherSessions()
    {
        var (deleted, kept) = await DeleteOneOfTwoSessionsAsync(deleteWithSession: true);
        Assert.Empty(deleted);
        Assert.Single(kept);
    }

    [Fact]
    public async Task WithoutDeleteWithSession_DeletingASession_LeavesItsObjects()
    {
        var (deleted, kept) = await DeleteOneOfTwoSessionsAsync(deleteWithSession: false);
        Assert.Equal(2, deleted.Count);
        Assert.Single(kept);
    }

    /// <summary>Puts two objects in one session and one in another, deletes the first session: the keys left of each.</summary>
    private static async Task<(List<string> Deleted, List<string> Kept)> DeleteOneOfTwoSessionsAsync(bool deleteWithSession)
    {
        await using var cache = await FlightCache.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:ObjectCache:DeleteWithSession"] = deleteWithSession ? "true" : "false",
        });
        await using IFlameClient flame = new GrpcFlameClient(cache.Gateway.Endpoint);
        const string app = "objects-app";
        await flame.RegisterApplicationAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var gone = await flame.CreateSessionAsync(null, new SessionSpec { Application = app });
        var other = await flame.CreateSessionAsync(null, new SessionSpec { Application = app });

        using var objects = new ObjectCacheClient(cache.Address.Replace("http://", "grpc://", StringComparison.Ordinal));
        await objects.PutObjectAsync($"{app}/{gone.Id}", "one"u8.ToArray());
        await objects.PutObjectAsync($"{app}/{gone.Id}/named", "two"u8.ToArray());
        await objects.PutObjectAsync($"{app}/{other.Id}", "three"u8.ToArray());

        await flame.CloseSessionAsync(gone.Id);
        await flame.DeleteSessionAsync(gone.Id);

        var keys = (await objects.ListObjectsAsync()).Select(o => o.Key).ToList();
        return ([.. keys.Where(k => k.StartsWith($"{app}/{gone.Id}/", StringComparison.Ordinal))],
            [.. keys.Where(k => k.StartsWith($"{app}/{other.Id}/", StringComparison.Ordinal))]);
    }
}
