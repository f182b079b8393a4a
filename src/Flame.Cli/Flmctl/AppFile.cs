using Flame.Client.Configuration;
using YamlDotNet.Serialization;

namespace Flame.Cli.Control;

/// <summary>
/// An application file, as given to <c>flmctl register -f</c> and <c>flmctl update -f</c> (or Flame's
/// <c>update -a</c>), in either of two layouts. Flame's, with the application's spec under <c>spec:</c>:
/// <code>
/// metadata:
///   name: my-app                # required
/// spec:                         # required
///   shim: host
///   command: /usr/bin/my-service
/// </code>
/// or flat, with <c>name</c> beside the spec's keys:
/// <code>
/// name: my-app                  # required
/// shim: Host                    # Host (default) or Wasm, any case
/// image: registry/img:1         # for shims that use one
/// description: What it does
/// labels: [batch, demo]
/// command: /usr/bin/my-service
/// arguments: [--verbose, "--port=0"]
/// environments: {RUST_LOG: info, MODE: fast}
/// working_directory: /tmp/my-app
/// max_instances: 10             # most executors one session may hold; absent = unlimited
/// delay_release: 60             # seconds a bound executor waits for more tasks; absent = the cluster default
/// schema: {input: '{"type":"string"}', output: '{"type":"string"}', common_data: '{"type":"object"}'}
/// url: file:///opt/pkg.tar.gz   # the application's package
/// installer: python             # binary or python
/// </code>
/// A file may hold several applications, one per YAML document (separated by <c>---</c>). Unknown keys are ignored,
/// as Flame ignores them, with a warning naming the file, line and key; a value of the wrong shape, bad YAML or a
/// missing name is an error that names the file and the line.
/// </summary>
public static class AppFile
{
    /// <summary>Reads and parses <paramref name="path"/>; any problem is a <see cref="CliUsageException"/> naming the file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="warnings">Receives one line per unknown key.</param>
    public static IReadOnlyList<(string Name, ApplicationSpec Spec)> Load(string path, ICollection<string> warnings)
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
        return Parse(text, path, warnings);
    }

    /// <summary>Parses the text of an application file: one application per document.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="fileName">The file's name, for messages.</param>
    /// <param name="warnings">Receives one line per unknown key.</param>
    public static IReadOnlyList<(string Name, ApplicationSpec Spec)> Parse(string text, string fileName, ICollection<string> warnings)
    {
        var documents = TypedYaml.ReadAll<AppDocument>(text, fileName, warnings, message => new CliUsageException(message));
        var apps = new List<(string, ApplicationSpec)>();
        foreach (var document in documents)
        {
            // An empty document (e.g. after a trailing ---) holds no application.
            if (document.Value is not { } app)
                continue;
            apps.Add(app.ToSpec(fileName, document));
        }
        if (apps.Count == 0)
            throw new CliUsageException($"{fileName}: the file is empty; it must at least give the application's name");
        return apps;
    }

    /// <summary>The spec's keys, shared by the flat layout and Flame's <c>spec:</c>.</summary>
    internal class SpecDocument
    {
        [YamlMember(Alias = "shim")] public string? Shim { get; set; }
        [YamlMember(Alias = "image")] public string? Image { get; set; }
        [YamlMember(Alias = "description")] public string? Description { get; set; }
        [YamlMember(Alias = "labels")] public List<string?>? Labels { get; set; }
        [YamlMember(Alias = "command")] public string? Command { get; set; }
        [YamlMember(Alias = "arguments")] public List<string?>? Arguments { get; set; }
        [YamlMember(Alias = "environments")] public Dictionary<string, string?>? Environments { get; set; }
        [YamlMember(Alias = "working_directory")] public string? WorkingDirectory { get; set; }
        [YamlMember(Alias = "max_instances")] public uint? MaxInstances { get; set; }
        [YamlMember(Alias = "delay_release")] public ulong? DelayRelease { get; set; }
        [YamlMember(Alias = "schema")] public SchemaDocument? Schema { get; set; }
        [YamlMember(Alias = "url")] public string? Url { get; set; }
        [YamlMember(Alias = "installer")] public string? Installer { get; set; }

        internal bool IsEmpty =>
            Shim is null && Image is null && Description is null && Labels is null && Command is null && Arguments is null
            && Environments is null && WorkingDirectory is null && MaxInstances is null && DelayRelease is null
            && Schema is null && Url is null && Installer is null;

        internal ApplicationSpec ToSpec(Func<string, string, CliUsageException> error, string prefix) => new()
        {
            Shim = Shim is null ? Flame.Shim.Host
                : Enum.TryParse<Flame.Shim>(Shim, ignoreCase: true, out var shim) && Enum.IsDefined(shim) && !char.IsDigit(Shim[0]) ? shim
                : throw error(prefix + "shim", $"must be Host or Wasm, not '{Shim}'"),
            Image = Image,
            Description = Description,
            Labels = [.. (Labels ?? []).Select(l => l ?? "")],
            Command = Command,
            Arguments = [.. (Arguments ?? []).Select(a => a ?? "")],
            Environments = [.. (Environments ?? []).Select(e => new EnvironmentVariable { Name = e.Key, Value = e.Value ?? "" })],
            WorkingDirectory = WorkingDirectory,
            MaxInstances = MaxInstances,
            DelayRelease = DelayRelease is { } delay
                ? delay <= long.MaxValue ? (long)delay : throw error(prefix + "delay_release", "is too large")
                : null,
            Schema = Schema is null ? null : new ApplicationSchema { Input = Schema.Input, Output = Schema.Output, CommonData = Schema.CommonData },
            Url = Url,
            Installer = Installer,
        };
    }

    /// <summary><c>schema:</c>: JSON Schema documents, each as a string.</summary>
    internal sealed class SchemaDocument
    {
        [YamlMember(Alias = "input")] public string? Input { get; set; }
        [YamlMember(Alias = "output")] public string? Output { get; set; }
        [YamlMember(Alias = "common_data")] public string? CommonData { get; set; }
    }

    /// <summary>Flame's <c>metadata:</c>.</summary>
    internal sealed class MetadataDocument
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
    }

    /// <summary>One document: either layout.</summary>
    internal sealed class AppDocument : SpecDocument
    {
        [YamlMember(Alias = "name")] public string? Name { get; set; }
        [YamlMember(Alias = "metadata")] public MetadataDocument? Metadata { get; set; }
        [YamlMember(Alias = "spec")] public SpecDocument? Spec { get; set; }

        internal (string Name, ApplicationSpec Spec) ToSpec(string file, TypedYaml.Document<AppDocument> document)
        {
            CliUsageException Error(string key, string problem) => new($"{file}:{document.LineOf(key)}: {key}: {problem}");

            if (Metadata is null && Spec is null)
            {
                if (string.IsNullOrWhiteSpace(Name))
                    throw Error("name", "is missing: the application's name is required");
                return (Name, ToSpec(Error, ""));
            }
            // Flame's layout: the name under metadata, everything else under spec.
            if (Name is not null || !IsEmpty)
                throw Error(Name is not null ? "name" : "metadata", "mixes the two layouts: give metadata.name and spec, or name and the spec's keys at the top level");
            if (string.IsNullOrWhiteSpace(Metadata?.Name))
                throw Error("metadata.name", "is missing: the application's name is required");
            if (Spec is null)
                throw Error("spec", "is missing: Flame's layout needs spec (it may be {})");
            return (Metadata.Name, Spec.ToSpec(Error, "spec."));
        }
    }
}
