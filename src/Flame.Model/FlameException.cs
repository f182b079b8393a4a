namespace Flame;

/// <summary>What kind of failure a <see cref="FlameException"/> is; each maps to one gRPC status code.</summary>
public enum FlameErrorKind
{
    /// <summary>Malformed ids or specs, a task for a closed session, a contradicting spec, an oversized input.</summary>
    InvalidArgument,
    /// <summary>An unknown session, task, application or node.</summary>
    NotFound,
    /// <summary>The id is taken.</summary>
    AlreadyExists,
    /// <summary>The object is not in a state that allows the request.</summary>
    FailedPrecondition,
    /// <summary>The server cannot serve the request now; retrying may help.</summary>
    Unavailable,
    /// <summary>A server fault.</summary>
    Internal,
    /// <summary>No credential, or one the gateway does not accept (unknown or revoked token).</summary>
    Unauthenticated,
    /// <summary>The caller is known but may not make this request.</summary>
    PermissionDenied,
    /// <summary>A cap on what one caller may hold was reached (open sessions of an owner, pending tasks of a session, watch streams of a connection); the message names the limit.</summary>
    ResourceExhausted,
}

/// <summary>
/// The one exception family of Flame: thrown by grains, mapped to a gRPC status by the gateway,
/// and mapped back by the client SDK, so callers of either transport see the same errors.
/// </summary>
public sealed class FlameException : Exception
{
    /// <summary>Creates an error of the given kind with a message for people.</summary>
    public FlameException(FlameErrorKind kind, string message) : base(message) => Kind = kind;

    /// <summary>What kind of failure this is.</summary>
    public FlameErrorKind Kind { get; }

    /// <summary>A malformed request.</summary>
    public static FlameException InvalidArgument(string message) => new(FlameErrorKind.InvalidArgument, message);
    /// <summary>An unknown object.</summary>
    public static FlameException NotFound(string message) => new(FlameErrorKind.NotFound, message);
    /// <summary>A taken id.</summary>
    public static FlameException AlreadyExists(string message) => new(FlameErrorKind.AlreadyExists, message);
    /// <summary>A state conflict.</summary>
    public static FlameException FailedPrecondition(string message) => new(FlameErrorKind.FailedPrecondition, message);
    /// <summary>No or a bad credential.</summary>
    public static FlameException Unauthenticated(string message) => new(FlameErrorKind.Unauthenticated, message);
    /// <summary>Not allowed for this caller.</summary>
    public static FlameException PermissionDenied(string message) => new(FlameErrorKind.PermissionDenied, message);
    /// <summary>A dependency (the task store) cannot take the request now; the client may retry.</summary>
    public static FlameException Unavailable(string message) => new(FlameErrorKind.Unavailable, message);
    /// <summary>A configured cap was reached; the message names the limit and its configuration key.</summary>
    public static FlameException ResourceExhausted(string message) => new(FlameErrorKind.ResourceExhausted, message);
}
