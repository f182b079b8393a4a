namespace Flame.Service;

/// <summary>
/// Thrown by a <see cref="FlameService"/> to fail a task (or the session entry) with a return code and a
/// message of its choosing. The message is reported as is, without the exception's type name.
/// </summary>
public class FlameTaskException : Exception
{
    /// <summary>Fails with return code 1.</summary>
    public FlameTaskException(string message) : this(message, 1)
    {
    }

    /// <summary>Fails with <paramref name="returnCode"/>, which must not be 0 (0 means success on the wire).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="returnCode"/> is 0.</exception>
    public FlameTaskException(string message, int returnCode) : this(message, returnCode, null)
    {
    }

    /// <summary>Fails with <paramref name="returnCode"/> (not 0), keeping the exception that caused the failure.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="returnCode"/> is 0.</exception>
    public FlameTaskException(string message, int returnCode, Exception? innerException) : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfZero(returnCode);
        ReturnCode = returnCode;
    }

    /// <summary>The non-zero return code reported to Flame.</summary>
    public int ReturnCode { get; }
}
