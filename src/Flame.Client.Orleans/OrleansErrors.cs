using Orleans.Networking.Shared;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Flame.Client;

/// <summary>Turns what a grain call throws into the <see cref="FlameException"/> family.</summary>
internal static class OrleansErrors
{
    /// <summary>True for the exceptions that are passed on as they are: our own family and cancellation.</summary>
    public static bool IsPassedOn(Exception exception) =>
        exception is FlameException or OperationCanceledException;

    /// <summary>True when the cluster could not be reached or did not answer in time: retrying may help.</summary>
    public static bool IsUnavailable(Exception exception) => exception is
        TimeoutException or
        SiloUnavailableException or
        OrleansMessageRejectionException or
        GatewayTooBusyException or
        ClientNotAvailableException or
        ConnectionFailedException or
        SocketConnectionException;

    /// <summary><paramref name="exception"/> as a <see cref="FlameException"/>, unless it is passed on as it is.</summary>
    public static Exception Translate(Exception exception)
    {
        if (IsPassedOn(exception))
            return exception;
        var kind = IsUnavailable(exception) ? FlameErrorKind.Unavailable : FlameErrorKind.Internal;
        return new FlameException(kind, $"{exception.GetType().Name}: {exception.Message}");
    }
}
