using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flame.Cli.Control;

/// <summary>
/// A small YAML emitter for the object trees flmctl prints (the same <see cref="JsonNode"/> trees that
/// <c>-o json</c> prints): block mappings and sequences, plain scalars where YAML reads them back as the
/// same string, double-quoted (JSON-escaped, which is valid YAML) otherwise.
/// </summary>
public static class YamlWriter
{
    /// <summary>The tree as a YAML document (no leading "---"), ending in a newline.</summary>
    public static string Write(JsonNode? node)
    {
        var sb = new StringBuilder();
        switch (node)
        {
            case JsonObject obj when obj.Count > 0:
                WriteMapping(sb, obj, 0);
                break;
            case JsonArray arr when arr.Count > 0:
                WriteSequence(sb, arr, 0);
                break;
            default:
                sb.Append(Scalar(node)).Append('\n');
                break;
        }
        return sb.ToString();
    }

    private static void WriteMapping(StringBuilder sb, JsonObject obj, int indent, bool firstInline = false)
    {
        var first = true;
        foreach (var (key, value) in obj)
        {
            // The first key of a mapping inside a sequence item follows the "- " on the same line.
            if (!(first && firstInline))
                sb.Append(' ', indent);
            first = false;
            sb.Append(Key(key)).Append(':');
            WriteValue(sb, value, indent);
        }
    }

    private static void WriteSequence(StringBuilder sb, JsonArray arr, int indent)
    {
        foreach (var item in arr)
        {
            sb.Append(' ', indent).Append("- ");
            switch (item)
            {
                case JsonObject obj when obj.Count > 0:
                    WriteMapping(sb, obj, indent + 2, firstInline: true);
                    break;
                case JsonArray inner when inner.Count > 0:
                    sb.Append('\n');
                    WriteSequence(sb, inner, indent + 2);
                    break;
                default:
                    sb.Append(Scalar(item)).Append('\n');
                    break;
            }
        }
    }

    private static void WriteValue(StringBuilder sb, JsonNode? value, int indent)
    {
        switch (value)
        {
            case JsonObject obj when obj.Count > 0:
                sb.Append('\n');
                WriteMapping(sb, obj, indent + 2);
                break;
            case JsonArray arr when arr.Count > 0:
                sb.Append('\n');
                WriteSequence(sb, arr, indent + 2);
                break;
            default:
                sb.Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static string Key(string key) => NeedsQuotes(key) ? Quote(key) : key;

    /// <summary>One scalar: null, a number, a boolean, or a string (quoted only when it must be).</summary>
    public static string Scalar(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray => "[]",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Str(v.GetValue<string>()),
        JsonValue v when v.GetValueKind() == JsonValueKind.True => "true",
        JsonValue v when v.GetValueKind() == JsonValueKind.False => "false",
        _ => node.ToJsonString(),
    };

    /// <summary>A string scalar: plain when YAML reads it back as this same string, else double-quoted.</summary>
    public static string Str(string s) => NeedsQuotes(s) ? Quote(s) : s;

    private static string Quote(string s) => JsonSerializer.Serialize(s);

    private static bool NeedsQuotes(string s)
    {
        if (s.Length == 0 || s != s.Trim())
            return true;
        if ("-?:,[]{}#&*!|>'\"%@`".Contains(s[0]))
            return true;
        if (s.Contains(": ") || s.Contains(" #") || s.EndsWith(':'))
            return true;
        foreach (var c in s)
        {
            if (char.IsControl(c) || c > 0x7e)
                return true;
        }
        return IsNumberLike(s) || IsReserved(s);
    }

    private static bool IsReserved(string s) => s.ToLowerInvariant() is
        "null" or "~" or "true" or "false" or "yes" or "no" or "on" or "off" or "y" or "n" or ".inf" or "-.inf" or "+.inf" or ".nan";

    private static bool IsNumberLike(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
        || s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || s.StartsWith("0o", StringComparison.OrdinalIgnoreCase);
}
