using Flame.Wire;
using Flame.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Task = System.Threading.Tasks.Task;

namespace Flame.SessionManager.Security;

/// <summary>
/// Authentication and the method-level authorization of every gateway call, in one place: finds the caller from the
/// <c>authorization</c> metadata (<see cref="TokenAuthenticator"/>), refuses what its role may not call
/// (<see cref="AccessPolicy"/>), makes the caller available to the services (<see cref="Caller.Of"/>), and writes the
/// audit line of each administrative call (<see cref="AuditLog"/>).
/// </summary>
internal sealed class AuthInterceptor(TokenAuthenticator authenticator, AuditLog audit) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var caller = await AdmitAsync(context, request);
        if (!AuditLog.IsAudited(context.Method))
            return await continuation(request, context);
        try
        {
            var response = await continuation(request, context);
            audit.Done(caller, context.Method, AuditLog.TargetOf(request), "ok");
            return response;
        }
        catch (Exception ex)
        {
            audit.Done(caller, context.Method, AuditLog.TargetOf(request), Outcome(ex));
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AdmitAsync(context, request);
        await continuation(request, responseStream, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AdmitAsync(context, request: null);
        return await continuation(requestStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AdmitAsync(context, request: null);
        await continuation(requestStream, responseStream, context);
    }

    /// <summary>The caller, attached to the call; or the refusal as an <see cref="RpcException"/> (audited for administrative calls).</summary>
    private async ValueTask<Caller> AdmitAsync(ServerCallContext context, object? request)
    {
        // Health checks are for load balancers and probes, which hold no token.
        if (AccessPolicy.AccessOf(context.Method) == MethodAccess.Public)
        {
            Caller.Probe.Attach(context);
            return Caller.Probe;
        }
        Caller caller;
        try
        {
            caller = await authenticator.AuthenticateAsync(context.RequestHeaders.GetValue("authorization"), context.CancellationToken);
        }
        catch (FlameException ex)
        {
            throw FlameStatus.ToRpcException(ex);
        }
        caller.Attach(context);
        if (AccessPolicy.Refusal(caller, context.Method) is { } refusal)
        {
            if (AuditLog.IsAudited(context.Method))
                audit.Done(caller, context.Method, AuditLog.TargetOf(request), "PermissionDenied");
            throw new RpcException(new Status(StatusCode.PermissionDenied, refusal));
        }
        return caller;
    }

    private static string Outcome(Exception ex) => ex switch
    {
        RpcException rpc => rpc.StatusCode.ToString(),
        FlameException flame => FlameStatus.ToStatusCode(flame.Kind).ToString(),
        _ => "Internal",
    };
}
