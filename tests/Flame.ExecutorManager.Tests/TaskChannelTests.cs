using Flame.ExecutorManager.Shims;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Tests;

/// <summary>
/// The choice of a service's task channel (<see cref="TaskChannel.ChooseAsync"/>) against real Kestrel services on a
/// Unix socket, reached with the executor manager's own channel.
/// </summary>
public sealed class TaskChannelTests
{
    [Fact]
    public async Task Probe_ChoosesTheStream_OnHeadersMarkedAsTheTaskStream_AndTheProbedStreamCarriesTheTasks()
    {
        await using var service = await FakeService.StartAsync(StreamKind.Marked);
        using var channel = HostShim.CreateChannel(service.SocketPath);
        var tasks = await TaskChannel.ChooseAsync(channel, CancellationToken.None);

        Assert.Equal("stream", tasks.Name);
        Assert.True(tasks.CanPipeline);
        Assert.Equal("stream:a", await RunAsync(tasks, "a"));
        Assert.Equal(1, service.StreamsOpened);
    }

    [Theory]
    [InlineData(StreamKind.None, "UNIMPLEMENTED")]
    [InlineData(StreamKind.Unmarked, "flame-task-stream")]
    public async Task Probe_ChoosesOnTaskInvoke_AndPutsNoTaskOnTheStream_WhenTheHeadersAreNotMarked(StreamKind kind, string reason)
    {
        await using var service = await FakeService.StartAsync(kind);
        using var channel = HostShim.CreateChannel(service.SocketPath);
        var tasks = await TaskChannel.ChooseAsync(channel, CancellationToken.None);

        Assert.Equal("OnTaskInvoke", tasks.Name);
        Assert.Contains(reason, tasks.Reason, StringComparison.Ordinal);
        Assert.False(tasks.CanPipeline);
        Assert.Equal("unary:b", await RunAsync(tasks, "b"));
        Assert.Equal(kind == StreamKind.None ? 0 : 1, service.StreamsOpened);
        Assert.Equal(0, service.StreamTasksReceived);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OnTaskInvoke_ReportsAResetCallAsALostService_NotAsACancellation(bool withDeadline)
    {
        // The channel reports a reset as a cancellation; without this the executor would take it for a timeout (with a
        // deadline) or let it escape as a binding fault (without one) instead of restarting the service.
        await using var service = await FakeService.StartAsync(StreamKind.None);
        using var channel = HostShim.CreateChannel(service.SocketPath);
        var tasks = await TaskChannel.ChooseAsync(channel, CancellationToken.None);
        Assert.Equal("OnTaskInvoke", tasks.Name);

        var error = await Assert.ThrowsAsync<RpcException>(() => tasks.InvokeAsync(
            new V1.TaskContext { TaskId = "1", Input = Google.Protobuf.ByteString.CopyFromUtf8("reset") },
            withDeadline ? DateTime.UtcNow.AddMinutes(5) : null, CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("lost the connection to the service process", error.Status.Detail);
    }

    /// <summary>One task through the chosen channel; its output.</summary>
    private static async Task<string> RunAsync(TaskChannel tasks, string input) =>
        (await tasks.InvokeAsync(new V1.TaskContext { TaskId = "1", Input = Google.Protobuf.ByteString.CopyFromUtf8(input) }, null, CancellationToken.None))
        .Output.ToStringUtf8();

    /// <summary>How the fake service answers InvokeTasks.</summary>
    public enum StreamKind
    {
        /// <summary>No InstanceExt: the server answers UNIMPLEMENTED.</summary>
        None,
        /// <summary>InstanceExt that sends the marked headers at once, then echoes each task.</summary>
        Marked,
        /// <summary>InstanceExt that sends headers without the mark and then reads (and counts) tasks.</summary>
        Unmarked,
    }

    private sealed class FakeService : IAsyncDisposable
    {
        private readonly string _directory;
        private WebApplication? _app;
        private int _streamsOpened;
        private int _streamTasksReceived;

        private FakeService(string directory, StreamKind kind)
        {
            _directory = directory;
            Kind = kind;
        }

        public StreamKind Kind { get; }

        public string SocketPath => Path.Combine(_directory, "s.sock");

        public int StreamsOpened => Volatile.Read(ref _streamsOpened);

        public int StreamTasksReceived => Volatile.Read(ref _streamTasksReceived);

        public static async Task<FakeService> StartAsync(StreamKind kind)
        {
            var directory = Path.Combine(Path.GetTempPath(), $"ftc-{Guid.NewGuid().ToString("N")[..8]}");
            Directory.CreateDirectory(directory);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(Path.Combine(directory, "s.sock"), l => l.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            var service = new FakeService(directory, kind);
            builder.Services.AddSingleton(service);
            var app = service._app = builder.Build();
            app.MapGrpcService<EchoInstance>();
            if (kind != StreamKind.None)
                app.MapGrpcService<EchoInstanceExt>();
            await app.StartAsync();
            return service;
        }

        internal void StreamOpened() => Interlocked.Increment(ref _streamsOpened);

        internal void StreamTaskReceived() => Interlocked.Increment(ref _streamTasksReceived);

        public async ValueTask DisposeAsync()
        {
            using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
                await _app!.StopAsync(stop.Token);
            await _app.DisposeAsync();
            Directory.Delete(_directory, recursive: true);
        }
    }

    private sealed class EchoInstance : V1.Instance.InstanceBase
    {
        public override async Task<V1.TaskResult> OnTaskInvoke(V1.TaskContext request, ServerCallContext context)
        {
            if (request.Input.ToStringUtf8() == "reset")
            {
                // What the executor sees of a service process that goes away mid-task: its call reset (RST_STREAM CANCEL).
                context.GetHttpContext().Features.Get<IHttpResetFeature>()!.Reset(Http2CancelCode);
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            return new V1.TaskResult { ReturnCode = 0, Output = Google.Protobuf.ByteString.CopyFromUtf8("unary:" + request.Input.ToStringUtf8()) };
        }

        private const int Http2CancelCode = 0x8;
    }

    private sealed class EchoInstanceExt(FakeService service) : V1.InstanceExt.InstanceExtBase
    {
        public override async Task InvokeTasks(
            IAsyncStreamReader<V1.TaskContext> requestStream, IServerStreamWriter<V1.TaskResult> responseStream, ServerCallContext context)
        {
            service.StreamOpened();
            var marked = service.Kind == StreamKind.Marked;
            await context.WriteResponseHeadersAsync(marked
                ? new Metadata { { V1.TaskStreamProtocol.Header, V1.TaskStreamProtocol.Value } }
                : new Metadata { { "some-header", "x" } });
            try
            {
                while (await requestStream.MoveNext(context.CancellationToken))
                {
                    service.StreamTaskReceived();
                    await responseStream.WriteAsync(new V1.TaskResult
                    {
                        ReturnCode = 0,
                        Output = Google.Protobuf.ByteString.CopyFromUtf8("stream:" + requestStream.Current.Input.ToStringUtf8()),
                    });
                }
            }
            catch (OperationCanceledException)
            {
                // The probe was dropped: the executor manager went to OnTaskInvoke.
            }
        }
    }
}
