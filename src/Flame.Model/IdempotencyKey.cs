using System.Buffers;

namespace Flame;

/// <summary>
/// The idempotency key of <c>CreateTask</c> / <c>CreateTasks</c>: a client that may send a create twice (it lost the
/// answer when a gateway or a silo died) sends the same key with each attempt, and the session creates the task(s)
/// once and answers every attempt with them.
/// </summary>
/// <remarks>
/// On the wire the key is the gRPC metadata entry <see cref="Header"/>; inside the cluster it travels in the Orleans
/// request context under the same name. A key is scoped to its session and remembered for a bounded time (see the
/// README, "Durability and several silos").
/// </remarks>
public static class IdempotencyKey
{
    /// <summary>The gRPC metadata entry (and request-context key) that carries it: <c>flame-idempotency-key</c>.</summary>
    public const string Header = "flame-idempotency-key";

    /// <summary>The longest key.</summary>
    public const int MaxLength = 128;

    private static readonly SearchValues<char> KeyChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    /// <summary>A new random key (a GUID's 32 hex digits).</summary>
    public static string New() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// <paramref name="key"/> if it is 1–128 of <c>[A-Za-z0-9._:-]</c> (a UUID fits); InvalidArgument otherwise.
    /// </summary>
    public static string Validate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is 0 or > MaxLength || key.AsSpan().ContainsAnyExcept(KeyChars))
            throw FlameException.InvalidArgument(
                $"the {Header} must be 1-{MaxLength} characters of [A-Za-z0-9._:-], e.g. a UUID; got '{LogText.Escape(key, 140)}'");
        return key;
    }
}
