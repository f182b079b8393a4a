using Flame.Client;
using Flame.Testing;
using Flame.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.SessionManager.Tests;

/// <summary>
/// More sessions than one 4 MiB answer holds (issue 20), on a gateway of their own so that no other test's list is cut:
/// a client with gRPC's default limits still lists them, and the paged extension shows every one.
/// </summary>
public sealed class SessionListLimitTests : IAsyncLifetime
{
    private const int Sessions = 1_200;
    private const int CommonDataBytes = 4_096; // 1,200 x 4 KiB: about 5 MB of sessions, over the default 4 MiB
    private InProcessGateway _gateway = null!;
    private List<string> _oldestFirst = [];
    private const string App = "many";

    public async Task InitializeAsync()
    {
        _gateway = await InProcessGateway.StartAsync();
        await using var client = new GrpcFlameClient(_gateway.Endpoint);
        await client.RegisterApplicationAsync(App, new Flame.ApplicationSpec { Command = "/bin/true" });
        await client.RegisterApplicationAsync("other", new Flame.ApplicationSpec { Command = "/bin/true" });
        var common = new byte[CommonDataBytes];
        Random.Shared.NextBytes(common);
        var created = new List<Flame.SessionInfo>();
        foreach (var chunk in Enumerable.Range(0, Sessions).Chunk(50))
            created.AddRange(await Task.WhenAll(chunk.Select(i =>
                client.CreateSessionAsync($"many-{i:D5}", new Flame.SessionSpec { Application = i == 7 ? "other" : App, CommonData = common }))));
        _oldestFirst = [.. created.OrderBy(s => s.Status.CreationTime).ThenBy(s => s.Id, StringComparer.Ordinal).Select(s => s.Id)];
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task ListSession_FromAClientWithTheDefault4MiBLimit_AnswersTheOldestUnderIt_AndSaysHowToSeeTheRest()
    {
        using var channel = GrpcChannel.ForAddress(_gateway.Endpoint); // gRPC's defaults: 4 MiB received at most
        var frontend = new Frontend.FrontendClient(channel);

        using var call = frontend.ListSessionAsync(new ListSessionRequest());
        var list = await call.ResponseAsync;

        Assert.InRange(list.CalculateSize(), 1, 4 * 1024 * 1024);
        Assert.InRange(list.Sessions.Count, 100, Sessions - 1);
        Assert.Equal(_oldestFirst.Take(list.Sessions.Count), list.Sessions.Select(s => s.Metadata.Id));
        var status = call.GetStatus();
        Assert.Equal(StatusCode.OK, status.StatusCode);
        Assert.Contains($"list cut at {list.Sessions.Count} sessions", status.Detail);
        Assert.Contains("FrontendExt.ListSessions", status.Detail);
    }

    [Fact]
    public async Task ListSessions_PagesThroughEverySessionOldestFirst_AndFiltersByStateAndApplication()
    {
        await using var client = new GrpcFlameClient(_gateway.Endpoint);
        await client.CloseSessionAsync(_oldestFirst[3]);

        var all = await client.ListSessionsAsync(new Flame.SessionFilter { PageSize = 500 }).ToListAsync();
        var closed = await client.ListSessionsAsync(new Flame.SessionFilter { State = Flame.SessionState.Closed }).ToListAsync();
        var other = await client.ListSessionsAsync(new Flame.SessionFilter { Application = "other" }).ToListAsync();

        Assert.Equal(_oldestFirst, all.Select(s => s.Id));
        Assert.Equal([_oldestFirst[3]], closed.Select(s => s.Id));
        Assert.Equal(["many-00007"], other.Select(s => s.Id));
        Assert.All(all, s => Assert.Equal(CommonDataBytes, s.Spec.CommonData?.Length));
    }

    [Fact]
    public async Task ListSessions_RefusesAMalformedPageToken_AsInvalidArgument()
    {
        using var channel = GrpcChannel.ForAddress(_gateway.Endpoint);
        var ext = new FrontendExt.FrontendExtClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => ext.ListSessionsAsync(new ListSessionsRequest { PageToken = "not-a-token" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("page token", error.Status.Detail);
    }
}
