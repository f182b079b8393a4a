using Flame.Client;
using Flame.SessionManager.Tests.Support;

namespace Flame.SessionManager.Tests;

/// <summary>
/// The two transports side by side: the same call must fail the same way on both, so that code written
/// against <see cref="IFlameClient"/> does not depend on the transport it is given.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class TransportParityTests(GatewayFixture gateway) : IAsyncLifetime
{
    private GrpcFlameClient _grpc = null!;
    private OrleansFlameClient _orleans = null!;

    public Task InitializeAsync()
    {
        _grpc = new GrpcFlameClient(gateway.Endpoint);
        _orleans = new OrleansFlameClient(gateway.Grains);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _grpc.DisposeAsync();
        await _orleans.DisposeAsync();
    }

    private async Task<(Exception? Grpc, Exception? Orleans)> OnBoth(Func<IFlameClient, Task> call) =>
        (await Record.ExceptionAsync(() => call(_grpc)), await Record.ExceptionAsync(() => call(_orleans)));

    [Fact]
    public async Task ErrorsRaisedByTheCluster_CarryTheSameMessage_OnBothTransports()
    {
        var app = Names.Unique("papp");
        await _grpc.RegisterApplicationAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var session = (await _grpc.CreateSessionAsync(null, new SessionSpec { Application = app })).Id;
        var calls = new Dictionary<string, Func<IFlameClient, Task>>
        {
            ["unknown session"] = c => c.GetSessionAsync(session + "-x"),
            ["unknown task"] = c => c.GetTaskAsync(session, 7),
            ["unknown application"] = c => c.GetApplicationAsync(app + "-x"),
            ["duplicate application"] = c => c.RegisterApplicationAsync(app, new ApplicationSpec { Command = "/bin/true" }),
            ["duplicate session"] = c => c.CreateSessionAsync(session, new SessionSpec { Application = app }),
            ["malformed session id"] = c => c.GetSessionAsync("bad id"),
            ["oversized input"] = c => c.CreateTaskAsync(session, new byte[GatewayFixture.MaxTaskInputBytes + 1]),
        };

        foreach (var (what, call) in calls)
        {
            var (grpc, orleans) = await OnBoth(call);
            var g = Assert.IsType<FlameException>(grpc);
            var o = Assert.IsType<FlameException>(orleans);
            Assert.True((g.Kind, g.Message) == (o.Kind, o.Message),
                $"{what}: gRPC threw {g.Kind} '{g.Message}', in-process threw {o.Kind} '{o.Message}'");
        }
    }

    [Fact]
    public async Task MissingSpecs_AreRefusedWithTheSameException_OnBothTransports()
    {
        var name = Names.Unique("papp");
        var calls = new Dictionary<string, Func<IFlameClient, Task>>
        {
            ["RegisterApplicationAsync without a spec"] = c => c.RegisterApplicationAsync(name, null!),
            ["UpdateApplicationAsync without a spec"] = c => c.UpdateApplicationAsync(name, null!),
            ["CreateSessionAsync without a spec"] = c => c.CreateSessionAsync(null, null!),
        };

        foreach (var (what, call) in calls)
        {
            var (grpc, orleans) = await OnBoth(call);
            Assert.NotNull(grpc);
            Assert.NotNull(orleans);
            Assert.True(grpc.GetType() == orleans.GetType(),
                $"{what}: gRPC threw {grpc.GetType().Name} ({grpc.Message}), in-process threw {orleans.GetType().Name} ({orleans.Message})");
        }
    }

    [Fact]
    public async Task WatchesOfOneTask_OnBothTransports_BothSeeItsEnd()
    {
        var app = Names.Unique("papp");
        await _orleans.RegisterApplicationAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var session = (await _orleans.CreateSessionAsync(null, new SessionSpec { Application = app })).Id;
        await _grpc.CreateTaskAsync(session, null);
        await using var overGrpc = _grpc.WatchTaskAsync(session, 1).GetAsyncEnumerator();
        await using var inProcess = _orleans.WatchTaskAsync(session, 1).GetAsyncEnumerator();
        Assert.True(await Wait.For(overGrpc.MoveNextAsync().AsTask(), "Pending over gRPC"));
        Assert.True(await Wait.For(inProcess.MoveNextAsync().AsTask(), "Pending in-process"));

        await _grpc.CloseSessionAsync(session);

        foreach (var (name, watch) in new[] { ("gRPC", overGrpc), ("in-process", inProcess) })
        {
            Assert.True(await Wait.For(watch.MoveNextAsync().AsTask(), $"Cancelled {name}"));
            Assert.Equal(TaskState.Cancelled, watch.Current.State);
            Assert.False(await Wait.For(watch.MoveNextAsync().AsTask(), $"the end of the watch {name}"));
        }
    }
}
