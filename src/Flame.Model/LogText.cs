using System.Buffers;
using System.Globalization;
using System.Text;

namespace Flame;

/// <summary>
/// Text that came from outside (a caller, a node, a service) on its way into a log line or an error message:
/// control characters are escaped, so that it cannot forge log lines (a newline), rewrite a terminal (an escape
/// sequence) or hide what follows it (a NUL, a bidirectional override), and it is cut to a readable length.
/// As a <c>[LoggerMessage]</c> parameter type it escapes only when the line is written: call sites pass a string.
/// </summary>
/// <remarks>
/// This file is also compiled into the executor manager (which speaks only the protocol and references no
/// Flame.Model), where the type is internal: one helper, for both sides of the wire.
/// </remarks>
#if FLAME_LOGTEXT_INTERNAL
internal
#else
public
#endif
readonly struct LogText(string? text)
{
    /// <summary>How much of a caller's text a log line shows; the rest is counted, not written.</summary>
    public const int MaxLogChars = 1024;

    // C0 and C1 controls, DEL, and the invisible characters that reorder or split what a reader sees:
    // left-to-right and right-to-left marks, line and paragraph separators, and the bidirectional embeddings,
    // overrides and isolates.
    private static readonly SearchValues<char> Escaped = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21))
            .Concat([0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069])
            .Select(c => (char)c)));

    /// <summary>The text as it may be written: escaped and cut to <see cref="MaxLogChars"/>.</summary>
    public override string ToString() => Escape(text, MaxLogChars);

    /// <summary>Lets a <c>[LoggerMessage]</c> method that takes a <see cref="LogText"/> be called with a string.</summary>
    public static implicit operator LogText(string? text) => new(text);

    /// <summary>The index of the first character in <paramref name="text"/> that <see cref="Escape"/> would escape, or -1.</summary>
    public static int IndexOfEscaped(ReadOnlySpan<char> text) => text.IndexOfAny(Escaped);

    /// <summary>
    /// <paramref name="text"/> with every control or invisible reordering character written as an escape
    /// (<c>\n</c>, <c>\r</c>, <c>\t</c>, otherwise <c>\uXXXX</c>), cut after <paramref name="maxChars"/>
    /// characters with a note of how many were left out. Null is written as an empty string.
    /// </summary>
    public static string Escape(string? text, int maxChars = MaxLogChars)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var shown = text.Length <= maxChars ? text.AsSpan() : text.AsSpan(0, maxChars);
        // Never cut a surrogate pair in two: half of it is not a character.
        if (shown.Length < text.Length && shown.Length > 0 && char.IsHighSurrogate(shown[^1]))
            shown = shown[..^1];
        if (shown.Length == text.Length && shown.IndexOfAny(Escaped) < 0)
            return text;
        var builder = new StringBuilder(shown.Length + 16);
        foreach (var c in shown)
        {
            switch (c)
            {
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (Escaped.Contains(c))
                        builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else
                        builder.Append(c);
                    break;
            }
        }
        if (shown.Length < text.Length)
            builder.Append("… (").Append((text.Length - shown.Length).ToString(CultureInfo.InvariantCulture)).Append(" more characters)");
        return builder.ToString();
    }
}
