using Flame.SessionManager.Tests.Support;
using Flame.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Flame.SessionManager.Tests;

using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// Executor managers as Flame's: stand-ins that speak only the standard Backend calls, against a gateway of their own
/// (their nodes would change what the shared gateway's other tests see): the Backend on the frontend's port + 1,
/// scheduling by shim, and whether a binding's service may be reused.
/// </summary>
public sealed class StandInExecutorManagerTests
{
    [Fact]
    public async Task AnExecutorManagerThatSpeaksOnlyTheStandardBackend_OnTheFrontendPortPlusOne_RunsATaskToSucceed()
    {
        var port = FreePorts.NextPair();
        await using var gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = $"http://127.0.0.1:{port}",
            ["Flame:SessionManager:BackendEndpoint"] = null, // the default: the frontend's port + 1
        });
        Assert.Equal($"http://127.0.0.1:{port + 1}", gateway.BackendEndpoint);
        using var channel = GrpcChannel.ForAddress(gateway.Endpoint);
        var frontend = new Frontend.FrontendClient(channel);
        var session = await frontend.NewSessionAsync();
        var task = await frontend.NewTaskAsync(session.Metadata.Id, "ping");

        await using var node = await StandInNode.StartAsync($"http://127.0.0.1:{port + 1}", Names.Unique("flame-em"));
        var order = await node.NextOrderAsync("an executor ordered of the stand-in node");
        var bind = await node.BindAsync(order);
        Assert.Equal(session.Metadata.Id, bind.Session.Metadata.Id);
        var ran = await node.RunTaskAsync(order.Metadata.Id, "pong");

        Assert.Equal(task.Metadata.Id, ran.Metadata.Id);
        var done = await frontend.GetTaskAsync(new GetTaskRequest { SessionId = session.Metadata.Id, TaskId = task.Metadata.Id });
        Assert.Equal(TaskState.Succeed, done.Status.State);
        Assert.Equal("pong", done.Spec.Output.ToStringUtf8());

        // As in Flame, the Backend's port serves only the Backend.
        using var backendChannel = GrpcChannel.ForAddress(gateway.BackendEndpoint!);
        var refused = await Assert.ThrowsAsync<RpcException>(
            () => new Frontend.FrontendClient(backendChannel).ListApplicationAsync(new ListApplicationRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        Assert.Contains($"only the Backend is served on port {port + 1}", refused.Status.Detail);
    }

    [Fact]
    public async Task TheBackendPort_IsOff_WhenBackendEndpointIsNone()
    {
        var port = FreePorts.NextPair();
        await using var gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = $"http://127.0.0.1:{port}",
            ["Flame:SessionManager:BackendEndpoint"] = "none",
        });

        Assert.Null(gateway.BackendEndpoint);
        using var socket = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port + 1);
        socket.Start(); // nothing listens there
        socket.Stop();
    }

    [Fact]
    public async Task AWasmApplicationsSession_StaysPendingWithOneEvent_UntilANodeThatRunsWasmRegisters_ThenRunsThere()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        using var channel = GrpcChannel.ForAddress(gateway.Endpoint);
        var frontend = new Frontend.FrontendClient(channel);
        await using var hostNode = await StandInNode.StartAsync(gateway.BackendEndpoint!, Names.Unique("host"));
        var app = Names.Unique("wasm");
        Assert.Equal(0, (await frontend.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = app,
            Application = new ApplicationSpec { Shim = Shim.Wasm, Command = "/opt/app.wasm" },
        })).ReturnCode);
        var session = await frontend.NewSessionAsync(app);
        var task = await frontend.NewTaskAsync(session.Metadata.Id, "ping");

        await Wait.UntilAsync(async () => (await EventsAsync(frontend, session, 108)).Count > 0,
            "the session to say that no node runs shim Wasm");
        // Pass after pass, the session is told once and nothing is ordered of the Host node.
        var scheduler = gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<Flame.Grains.ISchedulerGrain>(Flame.Grains.ISchedulerGrain.Key);
        for (var i = 0; i < 3; i++)
            await scheduler.ScheduleAsync();
        Assert.Contains("no node runs shim Wasm", (await EventsAsync(frontend, session, 108))[0].Message);
        Assert.False(hostNode.HasOrders, "an executor was ordered of a node that runs Host only");
        var pending = await frontend.GetTaskAsync(new GetTaskRequest { SessionId = session.Metadata.Id, TaskId = task.Metadata.Id });
        Assert.Equal(TaskState.Pending, pending.Status.State);

        await using var wasmNode = await StandInNode.StartAsync(gateway.BackendEndpoint!, Names.Unique("wasm"), Shim.Wasm);
        var order = await wasmNode.NextOrderAsync("an executor ordered of the node that runs Wasm");
        Assert.Equal(Shim.Wasm, order.Spec.Shim);
        await wasmNode.BindAsync(order);
        await wasmNode.RunTaskAsync(order.Metadata.Id, "pong");

        var done = await frontend.GetTaskAsync(new GetTaskRequest { SessionId = session.Metadata.Id, TaskId = task.Metadata.Id });
        Assert.Equal(TaskState.Succeed, done.Status.State);
        Assert.False(hostNode.HasOrders, "an executor was ordered of a node that runs Host only");
        // Checked last, when whatever the passes above sent the session has long arrived: it was told once.
        Assert.Single(await EventsAsync(frontend, session, 108));
    }

    [Fact]
    public async Task BindExecutor_LetsTheServiceBeReused_OnlyForAnApplicationLabelledReuseServices()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        Assert.Equal([false, true], await ReuseServiceOfBindingsAsync(gateway, labels: [[], [ApplicationLabels.ReuseServices]]));
    }

    [Fact]
    public async Task BindExecutor_LetsEveryServiceBeReused_WhenTheClusterSaysSo()
    {
        await using var gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:Execution:ReuseServices"] = "true",
        });
        Assert.Equal([true], await ReuseServiceOfBindingsAsync(gateway, labels: [[]]));
    }

    /// <summary>For an application with each set of <paramref name="labels"/> in turn, what its first binding says.</summary>
    private static async Task<List<bool>> ReuseServiceOfBindingsAsync(InProcessGateway gateway, IReadOnlyList<string[]> labels)
    {
        using var channel = GrpcChannel.ForAddress(gateway.Endpoint);
        var frontend = new Frontend.FrontendClient(channel);
        await using var node = await StandInNode.StartAsync(gateway.BackendEndpoint!, Names.Unique("node"));
        var reuse = new List<bool>();
        foreach (var set in labels)
        {
            var app = Names.Unique("app");
            var spec = new ApplicationSpec { Command = "/bin/true" };
            spec.Labels.Add(set);
            Assert.Equal(0, (await frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = app, Application = spec })).ReturnCode);
            var session = await frontend.NewSessionAsync(app);
            await frontend.NewTaskAsync(session.Metadata.Id, "ping");
            var order = await node.NextOrderAsync($"an executor ordered for session {session.Metadata.Id}");
            var bind = await node.BindAsync(order);
            Assert.Equal(session.Metadata.Id, bind.Session.Metadata.Id);
            reuse.Add(bind.ReuseService);
            await node.RunTaskAsync(order.Metadata.Id, "pong");
            await node.Backend.UnregisterExecutorAsync(new UnregisterExecutorRequest { ExecutorId = order.Metadata.Id });
        }
        return reuse;
    }

    private static async Task<List<Event>> EventsAsync(Frontend.FrontendClient frontend, Session session, int code) =>
        (await frontend.GetSessionAsync(new GetSessionRequest { SessionId = session.Metadata.Id })).Status.Events.Where(e => e.Code == code).ToList();
}
