using Flame.Wire;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Connections;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// Turns the FlameException family into gRPC statuses in one place, and any other failure into
/// INTERNAL (or UNAVAILABLE when the cluster cannot be reached) with a logged cause.
/// </summary>
internal sealed partial class FlameErrorInterceptor(ILogger<FlameErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } status)
        {
            throw status;
        }
    }

    private RpcException? Translate(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RpcException:
                return null;
            case FlameException flame:
                return FlameStatus.ToRpcException(flame);
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
            // The call's token is not always cancelled yet when the aborted connection surfaces in a read.
            case IOException when context.CancellationToken.IsCancellationRequested || ex.InnerException is ConnectionAbortedException:
                // The peer went away mid-stream (an executor manager killed, a client gone): not a server fault.
                return new RpcException(new Status(StatusCode.Cancelled, "the peer closed the call"));
            case TimeoutException or SiloUnavailableException or OrleansMessageRejectionException:
                LogUnavailable(context.Method, ex);
                return new RpcException(new Status(StatusCode.Unavailable, $"the cluster did not answer: {ex.Message}"));
            default:
                LogFault(context.Method, ex);
                return new RpcException(new Status(StatusCode.Internal, $"internal error in {context.Method}: {ex.GetType().Name}: {ex.Message}"));
        }
    }
}
