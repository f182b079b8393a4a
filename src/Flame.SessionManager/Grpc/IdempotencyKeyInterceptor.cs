using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// Carries the <c>flame-idempotency-key</c> metadata of <c>CreateTask</c> and <c>CreateTasks</c> into the Orleans
/// request context, where the session grain reads it (see <see cref="IdempotencyKey"/>): one place, not each RPC.
/// A malformed key is refused with INVALID_ARGUMENT before anything is created.
/// </summary>
internal sealed class IdempotencyKeyInterceptor : Interceptor
{
    private static readonly HashSet<string> Creates = new(StringComparer.Ordinal)
    {
        "/flame.v1.Frontend/CreateTask",
        "/flame.v1.FrontendExt/CreateTasks",
    };

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (Creates.Contains(context.Method) && context.RequestHeaders.GetValue(IdempotencyKey.Header) is { } key)
            RequestContext.Set(IdempotencyKey.Header, IdempotencyKey.Validate(key));
        return continuation(request, context);
    }
}
