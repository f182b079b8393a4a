using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace Flame.Cli.Control;

/// <summary>
/// Writes the object trees flmctl prints (the same <see cref="JsonNode"/> trees that <c>-o json</c> prints) as YAML
/// with YamlDotNet. A string that a YAML reader would take for something else (a number, a boolean, null, or a
/// date or time, as PyYAML reads ISO times) is double-quoted, so that every reader reads back the same string.
/// </summary>
public static partial class YamlWriter
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithIndentedSequences()
        .WithEventEmitter(next => new QuotingEmitter(next), where => where.OnBottom())
        .Build();

    /// <summary>The tree as a YAML document (no leading "---"), ending in a newline.</summary>
    public static string Write(JsonNode? node) => Serializer.Serialize(Plain(node));

    /// <summary>The tree as dictionaries, lists and scalars, in order, for the serializer.</summary>
    private static object? Plain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => obj.ToDictionary(kv => kv.Key, kv => Plain(kv.Value)),
        JsonArray arr => arr.Select(Plain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
            JsonValueKind.Number when ulong.TryParse(v.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out var u) => u,
            JsonValueKind.Number => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture),
            _ => null,
        },
        _ => null,
    };

    /// <summary>True when a plain YAML scalar <paramref name="s"/> would be read back as something other than this string.</summary>
    public static bool LooksTyped(string s) =>
        s.Length == 0
        || TypedScalar().IsMatch(s)
        || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    // YAML 1.1 and 1.2 null, booleans, numbers (also hex, octal, sexagesimal, .inf, .nan) and timestamps.
    [GeneratedRegex(@"^(~|null|true|false|yes|no|on|off|y|n|[-+]?\.(inf|nan)|[-+]?0[xo][0-9a-f_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TypedScalar();

    private sealed class QuotingEmitter(IEventEmitter next) : ChainedEventEmitter(next)
    {
        public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
        {
            if (eventInfo.Source.Value is null)
                eventInfo.RenderedValue = "null"; // said, not left empty: easier to read, and the same to a reader
            else if (eventInfo.Source.Type == typeof(string) && eventInfo.Source.Value is string s && LooksTyped(s))
                eventInfo.Style = ScalarStyle.DoubleQuoted;
            base.Emit(eventInfo, emitter);
        }
    }
}
