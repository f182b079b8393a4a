using Grpc.Core;

namespace Flame.ExecutorManager.Gateway;

/// <summary>
/// Request-response over one long-lived duplex call: each request is answered by one response, in order, without
/// the cost of a call per exchange. The call is opened on first use and dropped after any failure, so the next
/// exchange opens a new one. Sends may run ahead of the receives of earlier requests (pipelining), but nothing
/// overlaps: one send or receive at a time, each awaited before the next starts, as the executor's loops make them.
/// Once disposed it opens no call again.
/// </summary>
/// <param name="open">Opens a call; its argument is the call's lifetime.</param>
/// <param name="opened">A call opened already (e.g. to probe the peer), used by the first exchange.</param>
internal sealed class ExchangeStream<TRequest, TResponse>(
    Func<CancellationToken, AsyncDuplexStreamingCall<TRequest, TResponse>> open,
    AsyncDuplexStreamingCall<TRequest, TResponse>? opened = null)
    : IAsyncDisposable
    where TRequest : class
    where TResponse : class
{
    private AsyncDuplexStreamingCall<TRequest, TResponse>? _call = opened;
    private bool _disposed;

    /// <summary>Whether a call is open (false before the first exchange and after a failure).</summary>
    public bool IsOpen => _call is not null;

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
        await SendAsync(request, callToken, cancellationToken).ConfigureAwait(false);
        return await ReceiveAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The first half of an exchange: sends <paramref name="request"/>, whose response is read by a later
    /// <see cref="ReceiveAsync"/>, in order. Requests may run ahead of their responses (pipelining), one send at a
    /// time. Fails like <see cref="ExchangeAsync"/>; a call that has ended is left for the next receive to report.
    /// </summary>
    public async Task SendAsync(TRequest request, CancellationToken callToken, CancellationToken cancellationToken)
    {
        // Disposed with its binding: a retry still running must not open a stream that would be handed work.
        ObjectDisposedException.ThrowIf(_disposed, this);
        var call = _call ??= open(callToken);
        try
        {
            await call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Written to a call that has ended: its response stream carries the status that ended it.
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Lost(call, ex);
        }
        catch (IOException ex)
        {
            // The connection broke under the write (the gateway died: "Broken pipe", "Connection reset by peer"), which
            // the channel reports as it is rather than as a status.
            throw Lost(call, ex);
        }
        catch
        {
            Drop(call);
            throw;
        }
    }

    /// <summary>The second half of an exchange: the response to the oldest request sent and not yet answered.</summary>
    public async Task<TResponse> ReceiveAsync(CancellationToken cancellationToken)
    {
        var call = _call ?? throw new RpcException(new Status(StatusCode.Unavailable, "the stream ended without an answer"));
        try
        {
            if (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                return call.ResponseStream.Current;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Lost(call, ex);
        }
        catch (IOException ex)
        {
            throw Lost(call, ex);
        }
        catch
        {
            Drop(call);
            throw;
        }
        Drop(call);
        throw new RpcException(new Status(StatusCode.Unavailable, "the stream ended without an answer"));
    }

    /// <summary>
    /// Not our cancellation: the peer reset the stream or the connection broke (a channel that throws
    /// OperationCanceledException on cancellation reports it so, and a write on a broken connection throws its
    /// IOException). To the caller that is a lost peer: UNAVAILABLE, which it retries on another connection.
    /// </summary>
    private RpcException Lost(AsyncDuplexStreamingCall<TRequest, TResponse> call, Exception ex)
    {
        Drop(call);
        return new RpcException(new Status(StatusCode.Unavailable, "the stream was reset or its connection broke", ex));
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
            Drop(call);
        }
    }

    /// <summary>Drops the call (cancelling it if still open); the next exchange opens another.</summary>
    public void Drop()
    {
        if (_call is { } call)
            Drop(call);
    }

    /// <summary>Drops <paramref name="call"/>, and forgets it only if it is still the current one.</summary>
    private void Drop(AsyncDuplexStreamingCall<TRequest, TResponse> call)
    {
        if (ReferenceEquals(_call, call))
            _call = null;
        call.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        Drop();
        return ValueTask.CompletedTask;
    }
}
