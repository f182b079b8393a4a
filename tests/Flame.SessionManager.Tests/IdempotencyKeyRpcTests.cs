using Google.Protobuf;
using Grpc.Core;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>The <c>flame-idempotency-key</c> metadata of CreateTask and CreateTasks, as any flame.v1 client sends it, over real HTTP/2.</summary>
[Collection(GatewayCollection.Name)]
public sealed class IdempotencyKeyRpcTests(GatewayFixture gateway)
{
    private FrontendExt.FrontendExtClient Ext => new(gateway.Channel);

    private static global::Grpc.Core.Metadata Key(string key) => new() { { "flame-idempotency-key", key } };

    private Task<string> NewSessionAsync() => gateway.NewSessionAsync("idem-");

    [Fact]
    public async Task A_CreateTask_sent_again_with_its_key_answers_the_same_task_and_creates_none()
    {
        var session = await NewSessionAsync();
        var request = new CreateTaskRequest { Task = new TaskSpec { SessionId = session, Input = ByteString.CopyFromUtf8("x") } };
        var first = await gateway.Frontend.CreateTaskAsync(request, Key("retry-1"));
        var again = await gateway.Frontend.CreateTaskAsync(request, Key("retry-1"));
        var other = await gateway.Frontend.CreateTaskAsync(request, Key("retry-2"));

        Assert.Equal(first.Metadata.Id, again.Metadata.Id);
        Assert.NotEqual(first.Metadata.Id, other.Metadata.Id);
        Assert.Equal(2, (await gateway.Frontend.GetSessionAsync(new GetSessionRequest { SessionId = session })).Status.Pending);
    }

    [Fact]
    public async Task A_CreateTasks_sent_again_with_its_key_answers_the_same_batch_and_creates_none()
    {
        var session = await NewSessionAsync();
        var request = new CreateTasksRequest { SessionId = session, Inputs = { Enumerable.Repeat(ByteString.Empty, 5) } };
        var first = await Ext.CreateTasksAsync(request, Key("batch-a"));
        var again = await Ext.CreateTasksAsync(request, Key("batch-a"));

        Assert.Equal((first.FirstTaskId, first.Count), (again.FirstTaskId, again.Count));
        Assert.Equal(5, (await gateway.Frontend.GetSessionAsync(new GetSessionRequest { SessionId = session })).Status.Pending);
    }

    [Fact]
    public async Task A_malformed_key_is_refused_with_InvalidArgument_and_creates_nothing()
    {
        var session = await NewSessionAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await gateway.Frontend.CreateTaskAsync(
            new CreateTaskRequest { Task = new TaskSpec { SessionId = session } }, Key("not a key")));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("flame-idempotency-key", ex.Status.Detail);
        Assert.Equal(0, (await gateway.Frontend.GetSessionAsync(new GetSessionRequest { SessionId = session })).Status.Pending);
    }
}
