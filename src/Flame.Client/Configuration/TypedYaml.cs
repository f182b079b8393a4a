using System.Collections;
using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Flame.Client.Configuration;

/// <summary>
/// Reads YAML files into typed classes with YamlDotNet (properties named by <see cref="YamlMemberAttribute.Alias"/>),
/// the way Flame reads its files: keys the class does not have are ignored, but each is reported as a warning naming
/// the file, line and key, so that a misspelt key is noticed; a value of the wrong shape is an error naming the file,
/// line and key. Used for the client configuration file and flmctl's application files.
/// </summary>
internal static class TypedYaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .IgnoreUnmatchedProperties()
        .WithDuplicateKeyChecking()
        .Build();

    /// <summary>One document of a file: its value (null for an empty document) and the line of each key path.</summary>
    /// <param name="Value">The document, or null when it is empty.</param>
    /// <param name="Lines">The line of each value by its key path (<c>contexts[0].cluster.endpoint</c>; "" is the document).</param>
    public sealed record Document<T>(T? Value, IReadOnlyDictionary<string, long> Lines)
    {
        /// <summary>The line of the value at <paramref name="path"/>, else of its closest parent that is in the file.</summary>
        public long LineOf(string path)
        {
            while (true)
            {
                if (Lines.TryGetValue(path, out var line))
                    return line;
                var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
                if (cut <= 0)
                    return Lines.TryGetValue("", out var root) ? root : 0;
                path = path[..cut];
            }
        }
    }

    /// <summary>
    /// Every document of <paramref name="text"/> (separated by <c>---</c>) as a <typeparamref name="T"/>.
    /// Unknown keys are added to <paramref name="warnings"/> as <c>FILE:LINE: unknown key 'PATH' (ignored)</c>.
    /// </summary>
    /// <param name="text">The file's text.</param>
    /// <param name="file">The file's name, for messages.</param>
    /// <param name="warnings">Receives one line per unknown key.</param>
    /// <param name="error">Makes the exception thrown for a problem, given its one-line message.</param>
    public static IReadOnlyList<Document<T>> ReadAll<T>(string text, string file, ICollection<string> warnings, Func<string, Exception> error)
        where T : class
    {
        var documents = new List<Document<T>>();
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            while (!parser.TryConsume<StreamEnd>(out _))
            {
                // Buffer one document's events: they are walked once for unknown keys and where each value sits,
                // then replayed into the deserializer.
                var events = new List<ParsingEvent>();
                var depth = 0;
                do
                {
                    var current = parser.Current ?? throw new YamlException("unexpected end of the file");
                    events.Add(current);
                    if (current is DocumentStart) depth++;
                    if (current is DocumentEnd) depth--;
                    parser.MoveNext();
                }
                while (depth > 0);
                documents.Add(ReadDocument<T>(events, file, warnings, error));
            }
        }
        catch (SemanticErrorException ex)
        {
            throw error($"{file}:{ex.Start.Line}: not valid YAML: {ex.Message}");
        }
        catch (SyntaxErrorException ex)
        {
            throw error($"{file}:{ex.Start.Line}: not valid YAML: {ex.Message}");
        }
        return documents;
    }

    private static Document<T> ReadDocument<T>(List<ParsingEvent> events, string file, ICollection<string> warnings, Func<string, Exception> error)
        where T : class
    {
        var walker = new Walker(events, file, warnings);
        walker.Value(typeof(T), "");
        try
        {
            var value = Deserializer.Deserialize<T>(new Replay(events));
            return new Document<T>(value, walker.Lines());
        }
        catch (YamlException ex)
        {
            var (path, type) = walker.At(ex.Start);
            var problem = ex.Message.Contains("Duplicate key", StringComparison.OrdinalIgnoreCase)
                ? "is given twice"
                : $"must be {Expected(type)}";
            throw error(path.Length == 0
                ? $"{file}:{ex.Start.Line}: must be {Expected(type)}"
                : $"{file}:{ex.Start.Line}: {path}: {problem}");
        }
    }

    /// <summary>What a value of <paramref name="type"/> looks like, for messages.</summary>
    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a single value";
        if (type == typeof(uint) || type == typeof(ulong) || type == typeof(int) || type == typeof(long) || type == typeof(ushort))
            return type == typeof(int) || type == typeof(long) ? "a whole number" : "a whole number, 0 or more";
        if (type == typeof(bool)) return "true or false";
        if (typeof(IDictionary).IsAssignableFrom(type)) return "a mapping of names to values";
        if (type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type)) return "a list";
        return "a mapping of keys to values";
    }

    /// <summary>The properties of a class by their YAML name.</summary>
    private static Dictionary<string, Type>? Members(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type.IsPrimitive || typeof(IEnumerable).IsAssignableFrom(type) || type == typeof(object))
            return null;
        return type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<YamlIgnoreAttribute>() is null && p.CanWrite)
            .ToDictionary(p => p.GetCustomAttribute<YamlMemberAttribute>()?.Alias ?? p.Name, p => p.PropertyType);
    }

    /// <summary>Walks one document's events against the target type: reports unknown keys, records each value's key path.</summary>
    private sealed class Walker(List<ParsingEvent> events, string file, ICollection<string> warnings)
    {
        private readonly List<(Mark Start, string Path, Type Type)> _values = [];
        private int _i = 1; // after DocumentStart

        /// <summary>The key path and type of the value that starts at or last before <paramref name="mark"/>.</summary>
        public (string Path, Type Type) At(Mark mark)
        {
            var found = ("", typeof(object));
            foreach (var (start, path, type) in _values)
            {
                if (start.Index > mark.Index)
                    break;
                found = (path, type);
            }
            return found;
        }

        public Dictionary<string, long> Lines()
        {
            var lines = new Dictionary<string, long>();
            foreach (var (start, path, _) in _values)
                lines.TryAdd(path, start.Line);
            return lines;
        }

        public void Value(Type type, string path)
        {
            var current = events[_i];
            _values.Add((current.Start, path, type));
            var bare = Nullable.GetUnderlyingType(type) ?? type;
            switch (current)
            {
                case MappingStart when Members(bare) is { } members:
                    _i++;
                    while (events[_i] is not MappingEnd)
                    {
                        var key = events[_i] as Scalar;
                        var name = key?.Value ?? "?";
                        var keyPath = path.Length == 0 ? name : $"{path}.{name}";
                        if (key is null || !members.TryGetValue(name, out var memberType))
                        {
                            warnings.Add($"{file}:{events[_i].Start.Line}: unknown key '{keyPath}' (ignored){Hint(name, members.Keys)}");
                            Skip();
                            Skip();
                            continue;
                        }
                        _i++;
                        Value(memberType, keyPath);
                    }
                    _i++;
                    break;
                case MappingStart when typeof(IDictionary).IsAssignableFrom(bare):
                    var valueType = bare.IsGenericType ? bare.GetGenericArguments()[^1] : typeof(object);
                    _i++;
                    while (events[_i] is not MappingEnd)
                    {
                        var name = (events[_i] as Scalar)?.Value ?? "?";
                        Skip();
                        Value(valueType, path.Length == 0 ? name : $"{path}.{name}");
                    }
                    _i++;
                    break;
                case SequenceStart when bare != typeof(string) && typeof(IEnumerable).IsAssignableFrom(bare):
                    var itemType = bare.IsArray ? bare.GetElementType()! : bare.IsGenericType ? bare.GetGenericArguments()[0] : typeof(object);
                    _i++;
                    for (var index = 0; events[_i] is not SequenceEnd; index++)
                        Value(itemType, $"{path}[{index}]");
                    _i++;
                    break;
                default:
                    // A scalar, or a node of the wrong shape that the deserializer will refuse.
                    Skip();
                    break;
            }
        }

        private static string Hint(string name, IEnumerable<string> known)
        {
            var underscored = name.Replace('-', '_');
            return underscored != name && known.Contains(underscored) ? $"; did you mean '{underscored}'?" : "";
        }

        /// <summary>Moves past one whole node.</summary>
        private void Skip()
        {
            var depth = 0;
            do
            {
                var e = events[_i++];
                depth += e.NestingIncrease;
            }
            while (depth > 0);
        }
    }

    /// <summary>Replays buffered events to the deserializer.</summary>
    private sealed class Replay(List<ParsingEvent> events) : IParser
    {
        private int _index;

        public ParsingEvent? Current => _index < events.Count ? events[_index] : null;

        public bool MoveNext() => ++_index < events.Count;
    }
}
