using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;
using YamlDotNet.Serialization.NamingConventions;

namespace Flame.Cli.Control;

/// <summary>
/// Writes the documents flmctl prints (the same typed classes that <c>-o json</c> prints, keys in camelCase) as YAML
/// with YamlDotNet. A string that a YAML reader would take for something else (a number, a boolean, null, or a
/// date or time, as PyYAML reads ISO times) is double-quoted, so that every reader reads back the same string.
/// </summary>
public static partial class YamlWriter
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance) // property names only: dictionary keys stay as given
        .DisableAliases() // a value printed twice is written twice, never as an anchor and an alias
        .WithIndentedSequences()
        .WithEventEmitter(next => new QuotingEmitter(next), where => where.OnBottom())
        .Build();

    /// <summary>The document as YAML (no leading "---"), ending in a newline.</summary>
    public static string Write<T>(T document) where T : class => Serializer.Serialize(document, typeof(T));

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
