using Google.Protobuf;
using Grpc.Core;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>The Flame.Orleans extensions of ext.proto, over real HTTP/2.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ExtensionRpcTests(GatewayFixture gateway)
{
    private FrontendExt.FrontendExtClient Ext => new(gateway.Channel);

    private Task<string> NewSessionAsync() => gateway.NewSessionAsync("ext-");

    [Fact]
    public async Task CreateTasks_CreatesConsecutiveTasks_WithTheirInputs()
    {
        var session = await NewSessionAsync();
        var request = new CreateTasksRequest { SessionId = session };
        request.Inputs.Add(ByteString.CopyFromUtf8("a"));
        request.Inputs.Add(ByteString.Empty);
        request.Inputs.Add(ByteString.CopyFromUtf8("c"));
        var response = await Ext.CreateTasksAsync(request);
        Assert.Equal((1L, 3), (response.FirstTaskId, response.Count));
        var third = await gateway.Frontend.GetTaskAsync(new GetTaskRequest { SessionId = session, TaskId = "3" });
        Assert.Equal("c", third.Spec.Input.ToStringUtf8());
        Assert.False((await gateway.Frontend.GetTaskAsync(new GetTaskRequest { SessionId = session, TaskId = "2" })).Spec.HasInput);
    }

    [Fact]
    public async Task CreateTasks_IsRefused_ForAClosedOrUnknownSession_AndAnOversizedInput()
    {
        var session = await NewSessionAsync();
        var big = new CreateTasksRequest { SessionId = session };
        big.Inputs.Add(ByteString.Empty);
        big.Inputs.Add(ByteString.CopyFrom(new byte[GatewayFixture.MaxTaskInputBytes + 1]));
        var tooBig = await Assert.ThrowsAsync<RpcException>(async () => await Ext.CreateTasksAsync(big));
        Assert.Equal(StatusCode.InvalidArgument, tooBig.StatusCode);
        Assert.Equal(0, (await gateway.Frontend.GetSessionAsync(new GetSessionRequest { SessionId = session })).Status.Pending);

        await gateway.Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = session });
        var closed = await Assert.ThrowsAsync<RpcException>(async () =>
            await Ext.CreateTasksAsync(new CreateTasksRequest { SessionId = session, Inputs = { ByteString.Empty } }));
        Assert.Equal(StatusCode.InvalidArgument, closed.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
            await Ext.CreateTasksAsync(new CreateTasksRequest { SessionId = "no-such-session", Inputs = { ByteString.Empty } }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task WatchSession_SendsAnEmptyBatchFirst_ThenEveryFinishedTask_ThenEnds()
    {
        var session = await NewSessionAsync();
        await Ext.CreateTasksAsync(new CreateTasksRequest { SessionId = session, Inputs = { Enumerable.Repeat(ByteString.Empty, 700) } });
        using var watch = Ext.WatchSession(new WatchSessionRequest { SessionId = session });
        using var timeout = new CancellationTokenSource(Wait.Timeout);
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
        Assert.Empty(watch.ResponseStream.Current.Tasks);

        await gateway.Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = session });
        var seen = new List<Flame.V1.Task>();
        while (await watch.ResponseStream.MoveNext(timeout.Token))
            seen.AddRange(watch.ResponseStream.Current.Tasks);
        Assert.Equal(Enumerable.Range(1, 700).Select(i => i.ToString()), seen.Select(t => t.Metadata.Id).OrderBy(int.Parse));
        Assert.All(seen, t => Assert.Equal(TaskState.Cancelled, t.Status.State));
    }

    [Fact]
    public async Task WatchSession_OfAnUnknownSession_IsNotFound()
    {
        using var watch = Ext.WatchSession(new WatchSessionRequest { SessionId = "no-such-session" });
        var ex = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }
}
