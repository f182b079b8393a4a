using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;

namespace Flame;

/// <summary>The rules for names and ids, checked in one place by every entry point.</summary>
public static class FlameIds
{
    /// <summary>The longest application name or session id.</summary>
    public const int MaxNameLength = 253;

    private static readonly SearchValues<char> NameChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    /// <summary>Throws InvalidArgument unless <paramref name="name"/> is 1–253 of <c>[A-Za-z0-9._-]</c>, not <c>.</c> or <c>..</c>.</summary>
    public static string ValidateApplicationName(string? name) => ValidateName(name, "application name");

    /// <summary>Throws InvalidArgument unless <paramref name="id"/> is 1–253 of <c>[A-Za-z0-9._-]</c>, not <c>.</c> or <c>..</c>.</summary>
    public static string ValidateSessionId(string? id) => ValidateName(id, "session id");

    /// <summary>Throws InvalidArgument unless <paramref name="name"/> is 1–253 of <c>[A-Za-z0-9._-]</c>, not <c>.</c> or <c>..</c>.</summary>
    public static string ValidateNodeName(string? name) => ValidateName(name, "node name");

    /// <summary>Throws InvalidArgument unless <paramref name="id"/> is 1–253 of <c>[A-Za-z0-9._-]</c>, not <c>.</c> or <c>..</c>.</summary>
    public static string ValidateExecutorId(string? id) => ValidateName(id, "executor id");

    /// <summary>Throws InvalidArgument unless <paramref name="name"/> is 1–253 of <c>[A-Za-z0-9._-]</c>.</summary>
    public static string ValidateTokenName(string? name) => ValidateName(name, "token name");

    /// <summary>Parses a wire task id (a positive decimal number), or throws InvalidArgument.</summary>
    public static long ParseTaskId(string? id)
    {
        if (string.IsNullOrEmpty(id))
            throw FlameException.InvalidArgument("task id is empty");
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
            throw FlameException.InvalidArgument($"task id '{Shorten(id)}' is malformed: task ids are positive decimal numbers");
        return value;
    }

    /// <summary>The wire form of a task id.</summary>
    public static string FormatTaskId(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>A fresh session id for <paramref name="application"/>, like <c>pi-3fk2a9xq</c>.</summary>
    public static string NewSessionId(string application)
    {
        const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> suffix = stackalloc char[10];
        for (var i = 0; i < suffix.Length; i++)
            suffix[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        var prefix = application.Length > 200 ? application[..200] : application;
        return $"{prefix}-{suffix}";
    }

    private static string ValidateName(string? value, string what)
    {
        if (string.IsNullOrEmpty(value))
            throw FlameException.InvalidArgument($"{what} is empty");
        if (value.Length > MaxNameLength)
            throw FlameException.InvalidArgument($"{what} is {value.Length} characters long; the limit is {MaxNameLength}");
        var bad = value.AsSpan().IndexOfAnyExcept(NameChars);
        if (bad >= 0)
            throw FlameException.InvalidArgument(
                $"{what} '{Shorten(value)}' has the character '{LogText.Escape(value[bad].ToString())}' at {bad}; allowed are A-Z a-z 0-9 . _ -");
        // Ids name directories and paths on the way (an executor's work directory, store keys): these two would
        // name the directory itself or its parent.
        if (value is "." or "..")
            throw FlameException.InvalidArgument($"{what} '{value}' is reserved: '.' and '..' name directories, not objects");
        return value;
    }

    /// <summary>A caller's text fit to quote in an error message: control characters escaped, at most 64 characters.</summary>
    private static string Shorten(string s) => LogText.Escape(s, 64);
}
