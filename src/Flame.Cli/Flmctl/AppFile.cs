using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Flame.Cli.Control;

/// <summary>
/// An application file, as given to <c>flmctl register -f</c> and <c>flmctl update -f</c>:
/// <code>
/// name: my-app                  # required
/// shim: Host                    # Host (default) or Wasm
/// description: What it does
/// labels: [batch, demo]
/// command: /usr/bin/my-service
/// arguments: [--verbose, "--port=0"]
/// environments: {RUST_LOG: info, MODE: fast}
/// working_directory: /tmp/my-app
/// max_instances: 10             # most executors one session may hold; absent = unlimited
/// delay_release: 60             # seconds a bound executor waits for more tasks; absent = the cluster default
/// </code>
/// Every key is optional except <c>name</c>; an unknown key, a value of the wrong type, or bad YAML is an error
/// that names the file and the line.
/// </summary>
public static class AppFile
{
    /// <summary>The keys an application file may have.</summary>
    public static readonly IReadOnlyList<string> Keys =
        ["name", "shim", "description", "labels", "command", "arguments", "environments", "working_directory", "max_instances", "delay_release"];

    /// <summary>Reads and parses <paramref name="path"/>; any problem is a <see cref="CliUsageException"/> naming the file.</summary>
    public static (string Name, ApplicationSpec Spec) Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"{path}: cannot read the file: {ex.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>Parses the text of an application file; <paramref name="fileName"/> is used in error messages.</summary>
    public static (string Name, ApplicationSpec Spec) Parse(string text, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw Error(fileName, ex.Start.Line, "invalid YAML: " + (ex.InnerException?.Message ?? ex.Message));
        }
        if (stream.Documents.Count == 0)
            throw Error(fileName, null, "the file is empty; it must at least give the application's 'name'");
        if (stream.Documents.Count > 1)
            throw Error(fileName, stream.Documents[1].RootNode.Start.Line, "the file must hold one YAML document");
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            var node = stream.Documents[0].RootNode;
            if (node is YamlScalarNode { Value: null or "" })
                throw Error(fileName, null, "the file is empty; it must at least give the application's 'name'");
            throw Error(fileName, node.Start.Line, "expected a mapping of keys (name:, command:, ...)");
        }

        string? name = null;
        var spec = new ApplicationSpec();
        foreach (var (keyNode, value) in root.Children)
        {
            var key = keyNode is YamlScalarNode { Value: { } k } ? k : null;
            var line = keyNode.Start.Line;
            if (key is null || !Keys.Contains(key))
                throw Error(fileName, line, $"unknown key '{key ?? keyNode.ToString()}' (known keys: {string.Join(", ", Keys)})");
            if (IsNull(value))
                continue;
            switch (key)
            {
                case "name":
                    name = Str(fileName, key, value);
                    break;
                case "shim":
                    var shim = Str(fileName, key, value);
                    spec = spec with
                    {
                        Shim = Enum.TryParse<Shim>(shim, ignoreCase: true, out var s) && Enum.IsDefined(s) && !char.IsDigit(shim[0])
                            ? s
                            : throw Error(fileName, value.Start.Line, $"'shim' must be Host or Wasm, not '{shim}'"),
                    };
                    break;
                case "description":
                    spec = spec with { Description = Str(fileName, key, value) };
                    break;
                case "labels":
                    spec = spec with { Labels = List(fileName, key, value) };
                    break;
                case "command":
                    spec = spec with { Command = Str(fileName, key, value) };
                    break;
                case "arguments":
                    spec = spec with { Arguments = List(fileName, key, value) };
                    break;
                case "environments":
                    spec = spec with { Environments = Map(fileName, key, value) };
                    break;
                case "working_directory":
                    spec = spec with { WorkingDirectory = Str(fileName, key, value) };
                    break;
                case "max_instances":
                    spec = spec with
                    {
                        MaxInstances = uint.TryParse(Str(fileName, key, value), NumberStyles.None, CultureInfo.InvariantCulture, out var max)
                            ? max
                            : throw Error(fileName, value.Start.Line, "'max_instances' must be a whole number, 0 or more"),
                    };
                    break;
                case "delay_release":
                    spec = spec with
                    {
                        DelayRelease = long.TryParse(Str(fileName, key, value), NumberStyles.None, CultureInfo.InvariantCulture, out var delay)
                            ? delay
                            : throw Error(fileName, value.Start.Line, "'delay_release' must be a whole number of seconds, 0 or more"),
                    };
                    break;
            }
        }
        if (string.IsNullOrWhiteSpace(name))
            throw Error(fileName, null, "missing 'name': the application's name is required");
        return (name, spec);
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Str(string file, string key, YamlNode node) => node is YamlScalarNode { Value: { } v }
        ? v
        : throw Error(file, node.Start.Line, $"'{key}' must be a single value, not a {Kind(node)}");

    private static List<string> List(string file, string key, YamlNode node)
    {
        if (node is not YamlSequenceNode seq)
            throw Error(file, node.Start.Line, $"'{key}' must be a list, e.g. {key}: [a, b]");
        return [.. seq.Children.Select(item => item is YamlScalarNode { Value: { } v }
            ? v
            : throw Error(file, item.Start.Line, $"the items of '{key}' must be single values, not a {Kind(item)}"))];
    }

    private static List<EnvironmentVariable> Map(string file, string key, YamlNode node)
    {
        if (node is not YamlMappingNode map)
            throw Error(file, node.Start.Line, $"'{key}' must be a mapping, e.g. {key}: {{NAME: value}}");
        return [.. map.Children.Select(kv => new EnvironmentVariable
        {
            Name = kv.Key is YamlScalarNode { Value: { Length: > 0 } k } ? k : throw Error(file, kv.Key.Start.Line, $"the names in '{key}' must be non-empty single values"),
            Value = kv.Value is YamlScalarNode s ? IsNull(s) ? "" : s.Value ?? "" : throw Error(file, kv.Value.Start.Line, $"the values in '{key}' must be single values, not a {Kind(kv.Value)}"),
        })];
    }

    private static string Kind(YamlNode node) => node switch
    {
        YamlSequenceNode => "list",
        YamlMappingNode => "mapping",
        _ => "value",
    };

    private static CliUsageException Error(string file, long? line, string problem) =>
        new(line is > 0 ? $"{file}:{line}: {problem}" : $"{file}: {problem}");
}
