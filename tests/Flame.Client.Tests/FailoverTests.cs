using Flame.Client.Configuration;

namespace Flame.Client.Tests;

/// <summary>
/// A <see cref="GrpcFlameClient"/> given several gateways, against real session managers in this process (each one a
/// cluster of its own, so what a call returns shows which gateway answered it), over real HTTP/2 on loopback.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private readonly List<InProcessGateway> _gateways = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
            await gateway.DisposeAsync();
    }

    private async Task<InProcessGateway> StartGatewayAsync()
    {
        var gateway = await InProcessGateway.StartAsync();
        _gateways.Add(gateway);
        return gateway;
    }

    // Marks a gateway's cluster with an application of this name, so a read shows which cluster answered.
    private static async Task<string> MarkAsync(InProcessGateway gateway, string name)
    {
        await using var client = new GrpcFlameClient(gateway.Endpoint);
        await client.RegisterApplicationAsync(name, new ApplicationSpec { Command = "/bin/true" });
        return name;
    }

    private static async Task<string[]> ApplicationsAsync(IFlameClient client) =>
        [.. (await client.ListApplicationsAsync().ToListAsync()).Select(a => a.Name)];

    // A loopback port nothing listens on: connections to it are refused.
    private static string DeadEndpoint() => $"http://127.0.0.1:{FreePorts.Next()}";

    [Fact]
    public async Task Client_UsesTheSecondGateway_WhenTheFirstRefusesConnections()
    {
        var live = await StartGatewayAsync();
        var mark = await MarkAsync(live, "live");
        await using var client = new GrpcFlameClient($"{DeadEndpoint()},{live.Endpoint}");

        Assert.Equal([mark], await ApplicationsAsync(client));
        // A call that changes state goes to the live gateway too (it is not retried: the dead one refused the connection before it).
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = mark });
        var task = await client.CreateTaskAsync(session.Id, [1]);
        Assert.Equal(TaskState.Pending, task.State);
    }

    [Fact]
    public async Task Client_UsesTheSecondGateway_WhenConnectingToTheFirstTimesOut()
    {
        var live = await StartGatewayAsync();
        var mark = await MarkAsync(live, "live");
        await using var silent = new SilentGateway();
        await using var client = new GrpcFlameClient($"{silent.Endpoint},{live.Endpoint}");

        // pi-client's first calls: a read, then changes that are not sent twice. None may end as a cancellation.
        Assert.Equal(mark, (await Wait.For(client.GetApplicationAsync(mark), "the application, from the live gateway")).Name);
        var session = await Wait.For(client.CreateSessionAsync(null, new SessionSpec { Application = mark }), "a session on the live gateway");
        var task = await Wait.For(client.CreateTaskAsync(session.Id, [1]), "a task on the live gateway");
        Assert.Equal(TaskState.Pending, task.State);
    }

    [Fact]
    public async Task Client_KeepsWorking_WhenTheGatewayItUsesStops()
    {
        var first = await StartGatewayAsync();
        var second = await StartGatewayAsync();
        var (markA, markB) = (await MarkAsync(first, "first"), await MarkAsync(second, "second"));
        await using var client = new GrpcFlameClient(new FlameConnection([new Uri(first.Endpoint), new Uri(second.Endpoint)], null, "test"));
        Assert.Equal([markA], await ApplicationsAsync(client));
        var sessionA = await client.CreateSessionAsync(null, new SessionSpec { Application = markA });
        await client.CreateTaskAsync(sessionA.Id, null);

        await first.StopAsync();

        // Reads are retried on UNAVAILABLE, so the first call after the stop already gets the second gateway's answer.
        Assert.Equal([markB], await ApplicationsAsync(client));
        var sessionB = await client.CreateSessionAsync(null, new SessionSpec { Application = markB });
        var task = await client.CreateTaskAsync(sessionB.Id, [7]);
        Assert.Equal((sessionB.Id, 1L, TaskState.Pending), (task.SessionId, task.Id, task.State));
        Assert.Equal(1, (await client.GetSessionAsync(sessionB.Id)).Status.Pending);
    }

    [Fact]
    public async Task Client_ReportsUnavailable_WhenNoGatewayAnswers()
    {
        await using var client = new GrpcFlameClient($"{DeadEndpoint()},{DeadEndpoint()}");

        var error = await Assert.ThrowsAsync<FlameException>(() => ApplicationsAsync(client));

        Assert.Equal(FlameErrorKind.Unavailable, error.Kind);
    }

    [Fact]
    public void StateChangingCalls_AreNotInTheChannelsOwnRetryPolicy()
    {
        var retried = GrpcFlameClient.SafeToRetry.Select(m => m.Method).ToHashSet();

        Assert.DoesNotContain("CreateTask", retried);
        Assert.DoesNotContain("CreateTasks", retried);
        Assert.DoesNotContain("CreateSession", retried);
        Assert.DoesNotContain("CloseSession", retried);
        Assert.DoesNotContain("DeleteSession", retried);
        Assert.DoesNotContain("RegisterApplication", retried);
    }
}
