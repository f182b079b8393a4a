using System.Collections.Concurrent;
using Flame.Wire;
using Flame.Grains.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// The watch streams open on each connection, against <see cref="FlameLimitsOptions.MaxWatchStreamsPerConnection"/>.
/// A connection with none open has no entry, so closed connections leave nothing behind.
/// </summary>
internal sealed class WatchStreamCounter(int limit)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>The limit per connection.</summary>
    public int Limit => limit;

    /// <summary>Counts one more stream on <paramref name="connection"/>; false (and nothing counted) if it would pass the limit.</summary>
    public bool TryEnter(string connection)
    {
        if (_open.AddOrUpdate(connection, 1, static (_, n) => n + 1) <= limit)
            return true;
        Leave(connection);
        return false;
    }

    /// <summary>Counts one stream of <paramref name="connection"/> less; after a successful <see cref="TryEnter"/> only.</summary>
    public void Leave(string connection)
    {
        if (_open.AddOrUpdate(connection, 0, static (_, n) => n - 1) == 0)
            _open.TryRemove(new KeyValuePair<string, int>(connection, 0)); // only if no stream entered meanwhile
    }

    /// <summary>The streams open on <paramref name="connection"/>.</summary>
    public int OpenOn(string connection) => _open.TryGetValue(connection, out var n) ? n : 0;

    /// <summary>The connections with at least one stream open (or being refused).</summary>
    public int Connections => _open.Count;
}

/// <summary>
/// Refuses a WatchTask, WatchSession, WatchNode or grpc.health.v1.Health/Watch stream beyond <see cref="FlameLimitsOptions.MaxWatchStreamsPerConnection"/>
/// on one HTTP/2 connection with RESOURCE_EXHAUSTED, before the call reaches a grain. A watch lives as long as what it
/// watches, so without a cap one connection could hold every stream its HTTP/2 limit allows and the grain observers
/// behind them. Other calls are not counted: they end.
/// </summary>
internal sealed class WatchStreamLimitInterceptor(WatchStreamCounter counter) : Interceptor
{
    /// <summary>The watch methods, by their full gRPC names.</summary>
    private static readonly HashSet<string> Watches = new(StringComparer.Ordinal)
    {
        "/flame.v1.Frontend/WatchTask",
        "/flame.v1.FrontendExt/WatchSession",
        "/flame.v1.Backend/WatchNode",
        // Public, so that anyone who reaches the port could otherwise hold every stream a connection allows.
        "/grpc.health.v1.Health/Watch",
    };

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        CountedAsync(context, () => continuation(request, responseStream, context));

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        CountedAsync(context, () => continuation(requestStream, responseStream, context));

    private async Task CountedAsync(ServerCallContext context, Func<Task> call)
    {
        var connection = Enter(context);
        try
        {
            await call();
        }
        finally
        {
            if (connection is not null)
                counter.Leave(connection);
        }
    }

    /// <summary>The connection the watch was counted on, null for a call that is not a watch; throws beyond the limit.</summary>
    private string? Enter(ServerCallContext context)
    {
        if (!Watches.Contains(context.Method))
            return null;
        var connection = context.GetHttpContext().Connection.Id;
        if (!counter.TryEnter(connection))
            throw FlameStatus.ToRpcException(FlameException.ResourceExhausted(
                $"{context.Method[1..]}: this connection has {counter.Limit} watch streams open, the limit " +
                $"({FlameLimitsOptions.Section}:{nameof(FlameLimitsOptions.MaxWatchStreamsPerConnection)}); end one, or open another connection"));
        return connection;
    }
}
