using Flame.Channels;
using YamlDotNet.Serialization;

namespace Flame.Client.Configuration;

// The client configuration file as YAML classes (see FlameClientConfig for the format). Flame's own sections
// (cache, package, runner) are read so that they are known keys; only cache.endpoint is used (by flmctl object).

/// <summary>The whole file.</summary>
internal sealed class ClientConfigFile
{
    [YamlMember(Alias = "current-context")] public string? CurrentContext { get; set; }
    [YamlMember(Alias = "contexts")] public List<ContextSection?>? Contexts { get; set; }

    /// <summary>The file's contexts, checked; every problem names the file, line and key.</summary>
    public (string? CurrentContext, IReadOnlyList<FlameContext> Contexts) ToConfig(TypedYaml.Document<ClientConfigFile> document, string path,
        ICollection<string> warnings)
    {
        FlameClientConfigurationException Error(string key, string problem) =>
            new($"{path}:{document.LineOf(key)}: {key}: {problem}");

        var contexts = new List<FlameContext>();
        for (var i = 0; i < (Contexts?.Count ?? 0); i++)
        {
            var key = $"contexts[{i}]";
            var section = Contexts![i] ?? throw Error(key, "must be a mapping with a name and a cluster");
            var context = section.ToContext(key, Error, (k, warning) => warnings.Add($"{path}:{document.LineOf(k)}: {k}: {warning}"));
            if (contexts.Any(c => c.Name == context.Name))
                throw Error(key + ".name", $"'{context.Name}' is used by an earlier context");
            contexts.Add(context);
        }
        if (CurrentContext is { Length: 0 })
            throw Error("current-context", "must be a non-empty string");
        if (CurrentContext is not null && contexts.All(c => c.Name != CurrentContext))
            throw Error("current-context", $"names context '{CurrentContext}', which is not in contexts ({(contexts.Count == 0 ? "none" : string.Join(", ", contexts.Select(c => c.Name)))})");
        return (CurrentContext, contexts);
    }
}

/// <summary><c>contexts[]</c>.</summary>
internal sealed class ContextSection
{
    [YamlMember(Alias = "name")] public string? Name { get; set; }
    [YamlMember(Alias = "cluster")] public ClusterSection? Cluster { get; set; }
    [YamlMember(Alias = "cache")] public CacheSection? Cache { get; set; }
    [YamlMember(Alias = "package")] public PackageSection? Package { get; set; }
    [YamlMember(Alias = "runner")] public RunnerSection? Runner { get; set; }

    public FlameContext ToContext(string key, Func<string, string, FlameClientConfigurationException> error, Action<string, string> warn)
    {
        if (string.IsNullOrEmpty(Name))
            throw error(key + ".name", "is missing");
        var cluster = Cluster ?? throw error(key + ".cluster", "is missing");
        var prefix = key + ".cluster.";
        if ((cluster.Endpoint is null) == (cluster.Endpoints is null))
            throw error(prefix + "endpoint", "give exactly one of endpoint (one address) and endpoints (a list)");
        var entries = cluster.Endpoint is { } one
            ? [(one, prefix + "endpoint")]
            : cluster.Endpoints!.Select((e, i) => (e, $"{prefix}endpoints[{i}]")).ToList();
        if (entries.Count == 0)
            throw error(prefix + "endpoints", "is empty; give at least one address");
        var endpoints = new List<Uri>();
        foreach (var (text, entryKey) in entries)
        {
            if (string.IsNullOrEmpty(text))
                throw error(entryKey, $"must be an address like {GatewayChannels.Example}");
            if (!GatewayChannels.TryParse(text, assumeHttp: false, out var uri, out var problem))
                throw error(entryKey, problem);
            endpoints.Add(uri);
        }
        if (endpoints.Select(u => u.Scheme).Distinct().Count() > 1)
            throw error(prefix + "endpoints", "mixes http:// and https:// addresses; a channel is either plaintext or TLS");

        var caFile = cluster.Tls?.CaFile;
        if (caFile is { Length: 0 })
            throw error(prefix + "tls.ca_file", "must be a non-empty string");
        if (caFile is not null && endpoints[0].Scheme != Uri.UriSchemeHttps)
        {
            // As in Flame: TLS only for https endpoints, the CA of a plaintext cluster is not used.
            warn(prefix + "tls.ca_file", "ignored: the endpoints are http://; use https:// addresses for TLS");
            caFile = null;
        }
        if (caFile is not null)
        {
            caFile = ExpandHome(caFile);
            if (!File.Exists(caFile))
                throw error(prefix + "tls.ca_file", $"the file '{caFile}' does not exist");
        }
        var tokenFile = cluster.TokenFile switch
        {
            null => null,
            { Length: 0 } => throw error(prefix + "token_file", "must be a non-empty string"),
            var file => ExpandHome(file),
        };
        return new FlameContext(Name, endpoints, caFile, tokenFile, string.IsNullOrWhiteSpace(Cache?.Endpoint) ? null : Cache.Endpoint);
    }

    private static string ExpandHome(string file) =>
        file.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), file[2..])
            : file;
}

/// <summary><c>contexts[].cluster</c>.</summary>
internal sealed class ClusterSection
{
    [YamlMember(Alias = "endpoint")] public string? Endpoint { get; set; }
    [YamlMember(Alias = "endpoints")] public List<string?>? Endpoints { get; set; }
    [YamlMember(Alias = "tls")] public TlsSection? Tls { get; set; }
    [YamlMember(Alias = "token_file")] public string? TokenFile { get; set; }
}

/// <summary><c>tls</c> of a cluster or a cache.</summary>
internal sealed class TlsSection
{
    [YamlMember(Alias = "ca_file")] public string? CaFile { get; set; }
}

/// <summary><c>contexts[].cache</c>: Flame's object cache (flmctl's object commands use its endpoint).</summary>
internal sealed class CacheSection
{
    [YamlMember(Alias = "endpoint")] public string? Endpoint { get; set; }
    [YamlMember(Alias = "tls")] public TlsSection? Tls { get; set; }
    [YamlMember(Alias = "storage")] public string? Storage { get; set; }
}

/// <summary><c>contexts[].package</c>: Flame's runner package store (not used by this client).</summary>
internal sealed class PackageSection
{
    [YamlMember(Alias = "storage")] public string? Storage { get; set; }
    [YamlMember(Alias = "excludes")] public List<string?>? Excludes { get; set; }
}

/// <summary><c>contexts[].runner</c>: the application Flame's Python runner clones (not used by this client).</summary>
internal sealed class RunnerSection
{
    [YamlMember(Alias = "template")] public string? Template { get; set; }
}
