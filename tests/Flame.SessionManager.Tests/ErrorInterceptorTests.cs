using Flame.SessionManager.Grpc;
using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flame.SessionManager.Tests;

/// <summary>
/// What a streaming call's failure becomes at the gateway: a peer that went away is not a server fault, whether or not
/// the call's token has been cancelled by the time the aborted connection surfaces in a read.
/// </summary>
public sealed class ErrorInterceptorTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)] // the read fails before the call's token is cancelled: it happens (a flaky end-to-end test showed it)
    public async Task AnAbortedConnection_IsCancelled_NotInternal(bool tokenCancelled)
    {
        var status = await StatusOfAsync(
            new IOException("The request stream was aborted.", new ConnectionAbortedException("The HTTP/2 connection faulted.")),
            tokenCancelled);
        Assert.Equal(StatusCode.Cancelled, status.StatusCode);
    }

    [Fact]
    public async Task AnotherIOFailure_OfALiveCall_IsInternal()
    {
        var status = await StatusOfAsync(new IOException("disk full"), tokenCancelled: false);
        Assert.Equal(StatusCode.Internal, status.StatusCode);
        Assert.Contains("disk full", status.Detail);
    }

    private static async Task<Status> StatusOfAsync(Exception thrown, bool tokenCancelled)
    {
        var interceptor = new FlameErrorInterceptor(NullLogger<FlameErrorInterceptor>.Instance);
        using var cancellation = new CancellationTokenSource();
        if (tokenCancelled)
            await cancellation.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => interceptor.DuplexStreamingServerHandler<string, string>(
            null!, null!, new Context(cancellation.Token), (_, _, _) => throw thrown));
        return ex.Status;
    }

    private sealed class Context(CancellationToken token) : ServerCallContext
    {
        protected override string MethodCore => "/flame.v1.Backend/WatchNode";
        protected override string HostCore => "127.0.0.1";
        protected override string PeerCore => "ipv4:127.0.0.1:1";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore => [];
        protected override CancellationToken CancellationTokenCore => token;
        protected override Metadata ResponseTrailersCore => [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
