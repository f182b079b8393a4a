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

/// <summary>
/// One structured line per administrative call (event <see cref="EventId"/>): who made it, what, on what, and how it
/// ended. Caller text is escaped, so a name cannot forge a line; tokens never appear.
/// </summary>
public sealed partial class AuditLog(ILogger<AuditLog> logger)
{
    /// <summary>The event id of audit lines, for filtering.</summary>
    public const int EventId = 9100;

    private static readonly HashSet<string> Audited = new(StringComparer.Ordinal)
    {
        "/flame.v1.Frontend/RegisterApplication", "/flame.v1.Frontend/UpdateApplication", "/flame.v1.Frontend/UnregisterApplication",
        "/flame.v1.Frontend/DeleteSession",
        "/flame.v1.Backend/RegisterNode", "/flame.v1.Backend/ReleaseNode",
        "/flame.v1.SecurityExt/CreateToken", "/flame.v1.SecurityExt/RevokeToken",
    };

    /// <summary>Whether calls of <paramref name="method"/> are audited.</summary>
    public static bool IsAudited(string method) => Audited.Contains(method);

    /// <summary>The name a request acts on: an application, a session, a node, a token.</summary>
    public static string TargetOf(object? request) => request switch
    {
        RegisterApplicationRequest r => r.Name,
        UpdateApplicationRequest r => r.Name,
        UnregisterApplicationRequest r => r.Name,
        DeleteSessionRequest r => r.SessionId,
        RegisterNodeRequest r => r.Node?.Metadata?.Name ?? "",
        ReleaseNodeRequest r => r.NodeName,
        CreateTokenRequest r => r.Name,
        RevokeTokenRequest r => r.Name,
        _ => "",
    };

    /// <summary>Writes the line of one call.</summary>
    public void Done(Caller caller, string method, string target, string outcome) =>
        LogAudit(LogText.Escape(caller.Name), Caller.RoleName(caller.Role), caller.Anonymous, method[(method.LastIndexOf('/') + 1)..],
            LogText.Escape(target), outcome);

    [LoggerMessage(EventId = EventId, Level = LogLevel.Information,
        Message = "Audit: {Caller} (role {Role}, anonymous {Anonymous}) {Action} '{Target}': {Outcome}")]
    private partial void LogAudit(string caller, string role, bool anonymous, string action, string target, string outcome);
}
