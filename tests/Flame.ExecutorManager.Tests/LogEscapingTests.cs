using System.Collections.Concurrent;
using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Tests.Support;
using Flame.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Flame.ExecutorManager.Tests;

/// <summary>
/// Text from the other side of the wire reaches the node's log with its control characters escaped: a real node
/// (in-process) against a fake gateway (a real Kestrel gRPC server) whose refusal carries a forged log line.
/// </summary>
public sealed class LogEscapingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("flame-em-log-");
    private readonly CapturingLoggerProvider _log = new();
    private FakeGateway _gateway = null!;
    private IHost? _node;

    public async Task InitializeAsync() => _gateway = await FakeGateway.StartAsync();

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.StopAsync(TimeSpan.FromSeconds(10));
            _node.Dispose();
        }
        await _gateway.DisposeAsync();
        _work.Delete(recursive: true);
    }

    [Fact]
    public async Task AGatewaysRefusal_ReachesTheNodesLog_WithItsLineBreaksAndEscapesEscaped()
    {
        const string detail = "executor 'e1' is Bound\n2026-01-01 INFO Node node-a: all good\u001b[2K";
        _node = await StartNodeAsync();
        _gateway.Backend.FailBind("e1", Grpc.Core.StatusCode.FailedPrecondition, detail);
        _gateway.Backend.NoBinding("e1");

        _gateway.Backend.CreateExecutor("e1");
        await _gateway.Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        var line = Assert.Single(_log.Lines, l => l.Contains("executor 'e1' is Bound", StringComparison.Ordinal));
        Assert.Contains("executor 'e1' is Bound\\n2026-01-01 INFO Node node-a: all good\\u001B[2K", line);
        Assert.DoesNotContain(_log.Lines, l => l.Contains('\n') || l.Contains('\u001b'));
    }

    private async Task<IHost> StartNodeAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output));
        builder.Logging.AddProvider(_log);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddFlameExecutorManager(new FlameExecutorManagerOptions
        {
            Endpoint = _gateway.Endpoint,
            NodeName = "node-a",
            Slots = 1,
            WorkDirectory = _work.FullName,
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Every line the node logs, as its formatter writes it.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => [.. _lines];

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception));
        }
    }
}
