using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Flame.ExecutorManager.Tests;

using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// A node given several gateways (Flame:ExecutorManager:Endpoint as a comma-separated list) against real Kestrel
/// gRPC servers: it uses the first that answers, and registers again with the next when that one stops.
/// </summary>
public sealed class GatewayFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("flame-em-failover-");
    private readonly List<FakeGateway> _gateways = [];
    private IHost? _node;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.StopAsync(TimeSpan.FromSeconds(10));
            _node.Dispose();
        }
        foreach (var gateway in _gateways)
            await gateway.DisposeAsync();
        _work.Delete(recursive: true);
    }

    [Fact]
    public async Task Node_RegistersWithTheSecondGateway_WhenTheFirstRefusesConnections()
    {
        var live = await StartGatewayAsync();

        await StartNodeAsync($"{DeadEndpoint()},{live.Endpoint}");

        var register = await live.Backend.WaitForAsync<RegisterNodeRequest>("RegisterNode");
        Assert.Equal("node-f", register.Node.Metadata.Name);
        await live.Backend.WaitForCountAsync("Heartbeat", 2);
    }

    [Fact]
    public async Task Node_RegistersAgainWithTheSecondGateway_WhenTheFirstStops()
    {
        var first = await StartGatewayAsync();
        var second = await StartGatewayAsync();
        await StartNodeAsync($"{first.Endpoint},{second.Endpoint}");
        await first.Backend.WaitForAsync<RegisterNodeRequest>("RegisterNode");
        await first.Backend.WaitForCountAsync("Heartbeat", 2);
        Assert.DoesNotContain(second.Backend.Calls, c => c.Rpc == "RegisterNode");

        _gateways.Remove(first);
        await first.DisposeAsync();

        var again = await second.Backend.WaitForAsync<RegisterNodeRequest>("RegisterNode", timeout: TimeSpan.FromSeconds(30));
        Assert.Equal("node-f", again.Node.Metadata.Name);
        await second.Backend.WaitForCountAsync("Heartbeat", 2);
    }

    private async Task<FakeGateway> StartGatewayAsync()
    {
        var gateway = await FakeGateway.StartAsync();
        _gateways.Add(gateway);
        return gateway;
    }

    // A loopback port nothing listens on: connections to it are refused.
    private static string DeadEndpoint() => $"http://127.0.0.1:{FreePorts.Next()}";

    private async Task StartNodeAsync(string endpoints)
    {
        var options = new FlameExecutorManagerOptions
        {
            Endpoint = endpoints,
            NodeName = "node-f",
            Slots = 1,
            WorkDirectory = _work.FullName,
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        };
        options.Validate();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output));
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddFlameExecutorManager(options);
        _node = builder.Build();
        await _node.StartAsync();
    }
}
