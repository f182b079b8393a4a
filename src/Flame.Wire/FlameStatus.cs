using Grpc.Core;

namespace Flame.Wire;

/// <summary>
/// The one mapping between <see cref="FlameException"/> and gRPC status codes: the gateway turns
/// exceptions into statuses with it, and <c>Flame.Client.GrpcFlameClient</c> turns statuses back into exceptions.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term><see cref="FlameErrorKind"/></term><description><see cref="StatusCode"/></description></listheader>
/// <item><term>InvalidArgument</term><description>InvalidArgument</description></item>
/// <item><term>NotFound</term><description>NotFound</description></item>
/// <item><term>AlreadyExists</term><description>AlreadyExists</description></item>
/// <item><term>FailedPrecondition</term><description>FailedPrecondition</description></item>
/// <item><term>Unavailable</term><description>Unavailable (DeadlineExceeded also maps back to Unavailable)</description></item>
/// <item><term>Unauthenticated</term><description>Unauthenticated</description></item>
/// <item><term>PermissionDenied</term><description>PermissionDenied</description></item>
/// <item><term>ResourceExhausted</term><description>ResourceExhausted, named in the trailer <see cref="ErrorKindTrailer"/>; without it the
/// code maps back to InvalidArgument, since it is then gRPC's own answer to a message above its size limit</description></item>
/// <item><term>Internal</term><description>Internal (every other status maps back to Internal)</description></item>
/// </list>
/// </remarks>
public static class FlameStatus
{
    /// <summary>
    /// The response trailer in which the gateway names the <see cref="FlameErrorKind"/> of an error it answers inside a
    /// <c>flame.v1.Result</c> (return code -1, as Flame answers an application's logical errors). Flame's own clients
    /// ignore it; <c>Flame.Client.GrpcFlameClient</c> reads it back.
    /// </summary>
    public const string ErrorKindTrailer = "flame-error-kind";

    /// <summary>The gRPC status code for an error of kind <paramref name="kind"/>.</summary>
    public static StatusCode ToStatusCode(FlameErrorKind kind) => kind switch
    {
        FlameErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        FlameErrorKind.NotFound => StatusCode.NotFound,
        FlameErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        FlameErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        FlameErrorKind.Unavailable => StatusCode.Unavailable,
        FlameErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        FlameErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        FlameErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        _ => StatusCode.Internal,
    };

    /// <summary>The error kind a gRPC status code stands for; codes without their own kind are <see cref="FlameErrorKind.Internal"/>.</summary>
    public static FlameErrorKind ToErrorKind(StatusCode code) => code switch
    {
        // RESOURCE_EXHAUSTED without the kind trailer is gRPC's answer to a message above its size limit: a request too large.
        StatusCode.InvalidArgument or StatusCode.ResourceExhausted => FlameErrorKind.InvalidArgument,
        StatusCode.NotFound => FlameErrorKind.NotFound,
        StatusCode.AlreadyExists => FlameErrorKind.AlreadyExists,
        StatusCode.FailedPrecondition => FlameErrorKind.FailedPrecondition,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => FlameErrorKind.Unavailable,
        StatusCode.Unauthenticated => FlameErrorKind.Unauthenticated,
        StatusCode.PermissionDenied => FlameErrorKind.PermissionDenied,
        _ => FlameErrorKind.Internal,
    };

    /// <summary>
    /// The <see cref="FlameException"/> a failed call stands for: of the kind its <see cref="ErrorKindTrailer"/> names, else
    /// of its status code's; its message is the status detail (or the status code's name when the server sent no detail).
    /// </summary>
    public static FlameException FromRpcException(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var status = exception.Status;
        for (var inner = status.DebugException; inner is not null; inner = inner.InnerException)
        {
            // grpc-dotnet reports a refused certificate as INTERNAL with a chain of three messages: say what it means.
            if (inner is System.Security.Authentication.AuthenticationException)
                return new FlameException(FlameErrorKind.Unavailable,
                    $"TLS handshake with the gateway failed: {inner.Message} (is its CA in FLAME_CA_FILE or the context's tls.ca_file?)");
        }
        var message = string.IsNullOrEmpty(status.Detail) ? status.StatusCode.ToString() : status.Detail;
        var named = exception.Trailers.GetValue(ErrorKindTrailer);
        var kind = Enum.TryParse<FlameErrorKind>(named, ignoreCase: false, out var k) && Enum.IsDefined(k) && ToStatusCode(k) == status.StatusCode
            ? k
            : ToErrorKind(status.StatusCode);
        return new FlameException(kind, message);
    }

    /// <summary>
    /// The <see cref="RpcException"/> a server throws to report <paramref name="exception"/>: its code by kind, its message
    /// as the detail, its kind in the trailer <see cref="ErrorKindTrailer"/> too, so that the client throws the kind the
    /// in-process transport throws where a status code stands for two (RESOURCE_EXHAUSTED is both a Flame limit and
    /// gRPC's own refusal of an oversized message).
    /// </summary>
    public static RpcException ToRpcException(FlameException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new RpcException(ToStatus(exception), new Metadata { { ErrorKindTrailer, exception.Kind.ToString() } }, exception.Message);
    }

    /// <summary>
    /// The <c>Result{return_code: -1, message}</c> that reports <paramref name="exception"/> as Flame reports an
    /// application's logical errors; its kind is added to <paramref name="trailers"/>.
    /// </summary>
    public static V1.Result ToResult(FlameException exception, Metadata trailers)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(trailers);
        trailers.Add(ErrorKindTrailer, exception.Kind.ToString());
        return new V1.Result { ReturnCode = -1, Message = exception.Message };
    }

    /// <summary>
    /// The <see cref="FlameException"/> a <c>flame.v1.Result</c> with a non-zero return code stands for: its kind from
    /// the trailer <see cref="ErrorKindTrailer"/>; from a server that sends none (Flame), from the words Flame uses
    /// ("already exists", "not found", "open sessions"), else <see cref="FlameErrorKind.Internal"/>.
    /// </summary>
    public static FlameException FromResult(V1.Result result, Metadata? trailers)
    {
        ArgumentNullException.ThrowIfNull(result);
        var message = result.HasMessage && result.Message.Length > 0 ? result.Message : $"the server returned code {result.ReturnCode}";
        var kind = trailers?.GetValue(ErrorKindTrailer) is { } named && Enum.TryParse<FlameErrorKind>(named, out var k) && Enum.IsDefined(k)
            ? k
            : message.Contains("already exists", StringComparison.OrdinalIgnoreCase) ? FlameErrorKind.AlreadyExists
            : message.Contains("not found", StringComparison.OrdinalIgnoreCase) ? FlameErrorKind.NotFound
            : message.Contains("open sessions", StringComparison.OrdinalIgnoreCase) ? FlameErrorKind.FailedPrecondition
            : FlameErrorKind.Internal;
        return new FlameException(kind, message);
    }

    /// <summary>The gRPC status that reports <paramref name="exception"/>.</summary>
    public static Status ToStatus(FlameException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new Status(ToStatusCode(exception.Kind), exception.Message);
    }
}
