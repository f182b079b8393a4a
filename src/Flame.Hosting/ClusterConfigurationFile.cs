using System.Globalization;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Flame.Hosting;

/// <summary>
/// The cluster configuration file given with <c>--config FILE</c>: YAML (<c>.yaml</c>, <c>.yml</c>) or JSON, holding
/// the same keys as <c>appsettings.json</c> (<c>Flame:SessionManager</c>, <c>Flame:Cluster</c>, <c>Flame:Limits</c>,
/// <c>Flame:Execution</c>, <c>Flame:ExecutorManager</c>, <c>Logging</c>). Both server processes read the same file,
/// each its own sections.
/// </summary>
public static class ClusterConfigurationFile
{
    /// <summary>Adds <paramref name="path"/> to <paramref name="configuration"/>.</summary>
    /// <exception cref="InvalidDataException">The file is missing or malformed; the message says where.</exception>
    public static IConfigurationBuilder AddClusterConfigurationFile(this IConfigurationBuilder configuration, string path)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new InvalidDataException($"configuration file '{full}' does not exist");
        var extension = Path.GetExtension(full).ToLowerInvariant();
        if (extension is ".json")
        {
            // Parse now, so that a malformed file fails here with its own message rather than inside Build().
            var json = new ConfigurationBuilder().AddJsonFile(full, optional: false, reloadOnChange: false);
            try
            {
                json.Build();
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
            {
                throw new InvalidDataException($"configuration file '{full}': {Flatten(ex)}", ex);
            }
            return configuration.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        if (extension is not (".yaml" or ".yml"))
            throw new InvalidDataException($"configuration file '{full}': unknown format '{extension}'; use .yaml, .yml or .json");
        return configuration.AddInMemoryCollection(ReadYaml(full));
    }

    /// <summary>Flattens a YAML file into configuration keys: mappings nest with ':', sequences by index.</summary>
    /// <exception cref="InvalidDataException">Malformed YAML, with the line and column.</exception>
    public static IReadOnlyDictionary<string, string?> ReadYaml(string path)
    {
        var keys = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var stream = new YamlStream();
        try
        {
            using var reader = File.OpenText(path);
            stream.Load(reader);
        }
        catch (YamlException ex)
        {
            throw new InvalidDataException($"configuration file '{path}': line {ex.Start.Line}, column {ex.Start.Column}: {FirstLine(ex.Message)}", ex);
        }
        if (stream.Documents.Count == 0)
            return keys;
        if (stream.Documents.Count > 1)
            throw new InvalidDataException($"configuration file '{path}': holds {stream.Documents.Count} YAML documents; put everything in one");
        switch (stream.Documents[0].RootNode)
        {
            case YamlMappingNode root:
                Flatten(path, root, prefix: null, keys);
                return keys;
            case YamlScalarNode { Value: null or "" }:
                return keys;
            case var other:
                throw new InvalidDataException($"configuration file '{path}': line {other.Start.Line}: the top level must be a mapping such as 'Flame:'");
        }
    }

    private static void Flatten(string path, YamlNode node, string? prefix, Dictionary<string, string?> keys)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (keyNode, value) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { Length: > 0 } name } || name.Contains(':', StringComparison.Ordinal))
                        throw new InvalidDataException($"configuration file '{path}': line {keyNode.Start.Line}: a key must be a plain name");
                    var key = prefix is null ? name : $"{prefix}:{name}";
                    if (keys.ContainsKey(key))
                        throw new InvalidDataException($"configuration file '{path}': line {keyNode.Start.Line}: key '{key}' is given twice");
                    Flatten(path, value, key, keys);
                }
                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                    Flatten(path, sequence.Children[i], $"{prefix}:{i.ToString(CultureInfo.InvariantCulture)}", keys);
                break;
            case YamlScalarNode scalar:
                // '~' and an empty value mean "not set", as a missing key does.
                keys[prefix!] = scalar.Value is "~" or "null" && scalar.Style == YamlDotNet.Core.ScalarStyle.Plain ? null : scalar.Value;
                break;
            default:
                throw new InvalidDataException($"configuration file '{path}': line {node.Start.Line}: aliases are not supported");
        }
    }

    private static string FirstLine(string message) =>
        message.Split('\n', 2)[0].Trim();

    private static string Flatten(Exception ex)
    {
        var reason = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            reason += " " + inner.Message;
        return reason;
    }
}
