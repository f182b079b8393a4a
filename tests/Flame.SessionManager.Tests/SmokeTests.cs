using Grpc.Core;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

[Collection(GatewayCollection.Name)]
public sealed class SmokeTests(GatewayFixture gateway)
{
    [Fact]
    public async Task ASession_CanBeCreated_AndATask_Watched_UntilCancelled()
    {
        var app = "smoke-" + Guid.NewGuid().ToString("N")[..6];
        await gateway.Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = app,
            Application = new ApplicationSpec { Command = "/bin/true" },
        });
        var session = await gateway.Frontend.CreateSessionAsync(new CreateSessionRequest
        {
            Session = new SessionSpec { Application = app },
        });
        Assert.StartsWith(app + "-", session.Metadata.Id);
        var task = await gateway.Frontend.CreateTaskAsync(new CreateTaskRequest
        {
            Task = new TaskSpec { SessionId = session.Metadata.Id, Input = Google.Protobuf.ByteString.CopyFromUtf8("hi") },
        });
        Assert.Equal("1", task.Metadata.Id);
        using var watch = gateway.Frontend.WatchTask(new WatchTaskRequest { SessionId = session.Metadata.Id, TaskId = "1" });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(TaskState.Pending, watch.ResponseStream.Current.Status.State);
        await gateway.Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Metadata.Id });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(TaskState.Cancelled, watch.ResponseStream.Current.Status.State);
        Assert.False(await watch.ResponseStream.MoveNext(CancellationToken.None));
    }

    [Fact]
    public async Task UnknownSession_IsNotFound()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await gateway.Frontend.GetSessionAsync(new GetSessionRequest { SessionId = "nope" }));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Contains("nope", ex.Status.Detail);
    }
}
