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

    /// <summary>
    /// The gateway an executor talks to dies while its service runs a task: the executor reports the result through
    /// the second gateway (nothing failed, nothing run twice) and carries on with the session there.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Executor_CarriesOnThroughTheSecondGateway_WhenItsGatewayDiesMidTask_WithoutFailingOrLosingTheTask(bool windows)
    {
        var backend = new FakeBackend { GrantsWindows = windows };
        var first = await StartGatewayAsync(backend);
        var second = await StartGatewayAsync(backend);
        var serviceLog = Path.Combine(_work.FullName, "test-service.log");
        await StartNodeAsync($"{first.Endpoint},{second.Endpoint}");
        backend.Bind("e1", TestService(serviceLog), Session());
        backend.Launch("e1", "1", input: "slowecho:4000:first");
        backend.CreateExecutor("e1");
        await WaitForLogAsync(serviceLog, "invoke 1");
        Assert.Equal(["RegisterNode", "WatchNode"], backend.Calls.Where(c => c.Rpc is "RegisterNode" or "WatchNode").Select(c => c.Rpc));

        _gateways.Remove(first);
        await first.KillAsync();
        backend.Launch("e1", "2", input: "echo:second");
        backend.Launch("e1", null);
        backend.NoBinding("e1");
        await backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1", timeout: TimeSpan.FromSeconds(60));

        var results = backend.Calls.Where(c => c.Rpc == "CompleteTask").Select(c => ((CompleteTaskRequest)c.Request).TaskResult).ToList();
        Assert.Equal([(0, "first"), (0, "second")], results.Select(r => (r.ReturnCode, r.Output.ToStringUtf8())));
        // One binding throughout: the gateway's death cost the executor neither its session nor its service.
        Assert.Single(backend.CallsFor("e1"), rpc => rpc == "BindExecutorCompleted");
        Assert.Equal(["enter s1 0", "invoke 1", "invoke 2", "leave"], File.ReadAllLines(serviceLog));
        // The node went on with the second gateway too.
        await backend.WaitForCountAsync("RegisterNode", 2, timeout: TimeSpan.FromSeconds(30));
    }

    private static Application TestService(string log)
    {
        var spec = new ApplicationSpec { Command = TestNodes.TestServicePath };
        spec.Environments.Add(new Flame.V1.Environment { Name = "FLAME_TEST_SERVICE_LOG", Value = log });
        return new Application { Metadata = new Metadata { Id = "test", Name = "test" }, Spec = spec };
    }

    private static Session Session() =>
        new() { Metadata = new Metadata { Id = "s1", Name = "s1" }, Spec = new SessionSpec { Application = "test" } };

    private static async Task WaitForLogAsync(string path, string line)
    {
        var limit = Wait.Scaled(TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow + limit;
        while (!(File.Exists(path) && File.ReadAllLines(path).Contains(line)))
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"expected '{line}' in {path} within {limit.TotalSeconds:0.#} s; it holds: {(File.Exists(path) ? File.ReadAllText(path) : "nothing")}");
            await Task.Delay(20);
        }
    }

    private async Task<FakeGateway> StartGatewayAsync(FakeBackend? backend = null)
    {
        var gateway = await FakeGateway.StartAsync(taskStream: backend is not null, windows: backend?.GrantsWindows ?? false, backend);
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
            ServiceStartTimeout = TimeSpan.FromSeconds(20),
            AllowedCommands = [Path.GetDirectoryName(TestNodes.TestServicePath)!],
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
