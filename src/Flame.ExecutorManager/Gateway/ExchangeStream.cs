using Grpc.Core;

namespace Flame.ExecutorManager.Gateway;

/// <summary>
/// Request-response over one long-lived duplex call: each request is answered by one response, in order, without
/// the cost of a call per exchange. The call is opened on first use and dropped after any failure, so the next
/// exchange opens a new one. Not thread-safe: one exchange at a time, as the executor's loop makes them.
/// </summary>
internal sealed class ExchangeStream<TRequest, TResponse>(Func<CancellationToken, AsyncDuplexStreamingCall<TRequest, TResponse>> open)
    : IAsyncDisposable
    where TRequest : class
    where TResponse : class
{
    private AsyncDuplexStreamingCall<TRequest, TResponse>? _call;

    /// <summary>
    /// Sends <paramref name="request"/> and waits for its response. Cancelling <paramref name="cancellationToken"/>
    /// cancels the call. Throws the <see cref="RpcException"/> that ended the call (UNAVAILABLE if it ended without
    /// an answer or was reset by the peer), or <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="callToken">The lifetime of a call opened by this exchange.</param>
    /// <param name="cancellationToken">The limit of this exchange: when cancelled, the call is cancelled.</param>
    public async Task<TResponse> ExchangeAsync(TRequest request, CancellationToken callToken, CancellationToken cancellationToken)
    {
        var call = _call ??= open(callToken);
        try
        {
            try
            {
                await call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Written to a call that has ended: its response stream carries the status that ended it.
            }
            if (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                return call.ResponseStream.Current;
            throw new RpcException(new Status(StatusCode.Unavailable, "the stream ended without an answer"));
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not our cancellation: the peer reset the stream or the connection broke (a channel that throws
            // OperationCanceledException on cancellation reports it so). To the caller that is a lost peer.
            Drop();
            throw new RpcException(new Status(StatusCode.Unavailable, "the stream was reset or its connection broke", ex));
        }
        catch
        {
            Drop();
            throw;
        }
    }

    /// <summary>Ends the call in order: no more requests, then the server's end of the stream.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_call is not { } call)
            return;
        try
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                // Nothing is asked any more: there is nothing to read but the end.
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or InvalidOperationException)
        {
            // Ending a call that has failed already: it is dropped either way.
        }
        finally
        {
            Drop();
        }
    }

    /// <summary>Drops the call (cancelling it if still open); the next exchange opens another.</summary>
    public void Drop()
    {
        _call?.Dispose();
        _call = null;
    }

    public ValueTask DisposeAsync()
    {
        Drop();
        return ValueTask.CompletedTask;
    }
}
