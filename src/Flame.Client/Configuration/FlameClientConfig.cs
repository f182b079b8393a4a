using Flame.Channels;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Flame.Client.Configuration;

/// <summary>
/// The client configuration file, <c>~/.flame/flame.yaml</c> (or the file named by <c>FLAME_CONFIG</c>), shared
/// by flmctl, flmping and .NET clients. It has the shape of Flame's own client file:
/// <code>
/// current-context: local
/// contexts:
///   - name: local
///     cluster:
///       endpoint: http://127.0.0.1:8080               # or a list:
///       endpoints: [http://10.0.0.1:8080, http://10.0.0.2:8080]
///       tls:
///         ca_file: /etc/flame/ca.pem                  # https endpoints are verified with this CA
///       token_file: ~/.flame/token                    # sent as authorization: Bearer TOKEN
/// </code>
/// </summary>
/// <remarks>
/// Where a client connects, first match wins: endpoints given explicitly (flmctl's <c>--endpoint</c>), then
/// <c>FLAME_ENDPOINT</c> (a comma-separated list), then the context named explicitly, by <c>FLAME_CONTEXT</c> or by
/// <c>current-context</c>, then <see cref="DefaultEndpoint"/>. The CA: <c>FLAME_CA_FILE</c>, else the context's
/// <c>tls.ca_file</c>. The token: a token file given explicitly (<c>--token-file</c>), else <c>FLAME_TOKEN</c>, else
/// <c>FLAME_TOKEN_FILE</c>, else the context's <c>token_file</c>; without one, calls carry no credential. A missing file is an empty configuration. Flame's
/// <c>cache</c> and <c>package</c> sections of a context are accepted and ignored; any other unknown key is an error,
/// so that a misspelt key is not silently ignored.
/// </remarks>
public sealed class FlameClientConfig
{
    /// <summary>The environment variable naming the configuration file.</summary>
    public const string FileVariable = "FLAME_CONFIG";
    /// <summary>The environment variable with the gateway endpoints, comma-separated.</summary>
    public const string EndpointVariable = "FLAME_ENDPOINT";
    /// <summary>The environment variable naming the context to use.</summary>
    public const string ContextVariable = "FLAME_CONTEXT";
    /// <summary>The environment variable naming the PEM CA that https gateways must chain to, as in Flame's SDKs.</summary>
    public const string CaFileVariable = "FLAME_CA_FILE";
    /// <summary>The environment variable holding the bearer token itself.</summary>
    public const string TokenVariable = "FLAME_TOKEN";
    /// <summary>The environment variable naming a file that holds the bearer token.</summary>
    public const string TokenFileVariable = "FLAME_TOKEN_FILE";
    /// <summary>Flame's default gateway address.</summary>
    public const string DefaultEndpoint = "http://127.0.0.1:8080";

    private FlameClientConfig(string path, string? currentContext, IReadOnlyList<FlameContext> contexts)
    {
        Path = path;
        CurrentContext = currentContext;
        Contexts = contexts;
    }

    /// <summary>The file this configuration was read from (it may not exist).</summary>
    public string Path { get; }

    /// <summary>The file's <c>current-context</c>, if any.</summary>
    public string? CurrentContext { get; }

    /// <summary>The file's contexts, in order.</summary>
    public IReadOnlyList<FlameContext> Contexts { get; }

    /// <summary>The default file: <c>~/.flame/flame.yaml</c>.</summary>
    public static string DefaultPath =>
        System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".flame", "flame.yaml");

    /// <summary>
    /// Reads <paramref name="path"/>, else the file named by <c>FLAME_CONFIG</c>, else <see cref="DefaultPath"/>.
    /// A file that does not exist is an empty configuration.
    /// </summary>
    /// <param name="path">The file, or null.</param>
    /// <param name="environment">Reads an environment variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <exception cref="FlameClientConfigurationException">The file cannot be read or is malformed.</exception>
    public static FlameClientConfig Load(string? path = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        path = !string.IsNullOrWhiteSpace(path) ? path
            : environment(FileVariable) is { Length: > 0 } fromEnv ? fromEnv
            : DefaultPath;
        string text;
        try
        {
            if (!File.Exists(path))
                return new FlameClientConfig(path, null, []);
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlameClientConfigurationException($"{path}: cannot read the client configuration: {ex.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>Parses the text of a configuration file; <paramref name="path"/> is named in error messages.</summary>
    /// <exception cref="FlameClientConfigurationException">The text is not valid YAML or breaks the format.</exception>
    public static FlameClientConfig Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new FlameClientConfigurationException($"{path}:{ex.Start.Line}: not valid YAML: {ex.InnerException?.Message ?? ex.Message}");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return new FlameClientConfig(path, null, []);

        var reader = new Reader(path);
        var root = reader.Map(stream.Documents[0].RootNode, "");
        reader.OnlyKeys(root, "", "current-context", "contexts");
        var current = reader.OptionalString(root, "", "current-context");
        var contexts = new List<FlameContext>();
        if (reader.Child(root, "contexts") is { } contextsNode)
        {
            if (contextsNode is not YamlSequenceNode sequence)
                throw reader.Error(contextsNode, "contexts", "must be a list of contexts, each with a name and a cluster");
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                var context = reader.ReadContext(sequence.Children[i], $"contexts[{i}]");
                if (contexts.Any(c => c.Name == context.Name))
                    throw reader.Error(sequence.Children[i], $"contexts[{i}].name", $"'{context.Name}' is used by an earlier context");
                contexts.Add(context);
            }
        }
        if (current is not null && contexts.All(c => c.Name != current))
            throw reader.Error(root.Children[new YamlScalarNode("current-context")], "current-context",
                $"names context '{current}', which is not in contexts ({Names(contexts)})");
        return new FlameClientConfig(path, current, contexts);
    }

    /// <summary>
    /// Where to connect, by precedence: <paramref name="endpoints"/> (each entry may be a comma-separated list),
    /// else <c>FLAME_ENDPOINT</c>, else the context <paramref name="context"/>, <c>FLAME_CONTEXT</c> or
    /// <see cref="CurrentContext"/>, else <see cref="DefaultEndpoint"/>.
    /// </summary>
    /// <param name="endpoints">Endpoints given explicitly (e.g. flmctl's <c>--endpoint</c>), or null/empty.</param>
    /// <param name="context">A context named explicitly (e.g. flmctl's <c>--context</c>), or null.</param>
    /// <param name="environment">Reads an environment variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <param name="endpointsSource">How <paramref name="endpoints"/> are named in errors; default <c>--endpoint</c>.</param>
    /// <param name="tokenFile">A token file given explicitly (e.g. <c>--token-file</c>), or null.</param>
    /// <exception cref="FlameClientConfigurationException">An endpoint is not an http(s) address, the context is unknown, or a token file is missing or empty.</exception>
    public FlameConnection Resolve(IEnumerable<string>? endpoints = null, string? context = null,
        Func<string, string?>? environment = null, string endpointsSource = "--endpoint", string? tokenFile = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var (connection, contextTokenFile) = ResolveEndpoints(endpoints, context, environment, endpointsSource);
        return WithCredentials(connection, contextTokenFile, tokenFile, environment);
    }

    private (FlameConnection Connection, string? TokenFile) ResolveEndpoints(IEnumerable<string>? endpoints, string? context,
        Func<string, string?> environment, string endpointsSource)
    {
        var given = endpoints?.Where(e => !string.IsNullOrWhiteSpace(e)).ToList() ?? [];
        if (given.Count > 0)
            return (new FlameConnection(ParseEndpoints(string.Join(',', given), endpointsSource), null, endpointsSource), null);
        if (environment(EndpointVariable) is { } fromEnv && !string.IsNullOrWhiteSpace(fromEnv))
            return (new FlameConnection(ParseEndpoints(fromEnv, EndpointVariable), null, EndpointVariable), null);

        var (name, source) = !string.IsNullOrWhiteSpace(context) ? (context, "--context")
            : environment(ContextVariable) is { Length: > 0 } envContext ? (envContext, ContextVariable)
            : (CurrentContext, "current-context");
        if (name is null)
            return (new FlameConnection([new Uri(DefaultEndpoint)], null, "default"), null);
        var chosen = Contexts.FirstOrDefault(c => c.Name == name)
            ?? throw new FlameClientConfigurationException(Contexts.Count == 0 && !File.Exists(Path)
                ? $"{source}: context '{name}' is unknown: there is no client configuration file {Path}"
                : $"{source}: context '{name}' is not in {Path} (its contexts: {Names(Contexts)})");
        return (new FlameConnection(chosen.Endpoints, chosen.CaFile, $"context '{chosen.Name}' of {Path}"), chosen.TokenFile);
    }

    /// <summary>
    /// The CA (<c>FLAME_CA_FILE</c> over the context's) and the token, read now so that a missing or empty token file
    /// is reported before any call. The CA applies to https gateways only: FLAME_CA_FILE set for every shell must not
    /// break a plaintext loopback gateway.
    /// </summary>
    private static FlameConnection WithCredentials(FlameConnection connection, string? contextTokenFile, string? tokenFile,
        Func<string, string?> environment)
    {
        if (environment(CaFileVariable) is { Length: > 0 } caFile)
        {
            if (!File.Exists(caFile))
                throw new FlameClientConfigurationException($"{CaFileVariable}: the file '{caFile}' does not exist");
            connection = connection with { CaFile = caFile };
        }
        string? warning = null;
        var token = !string.IsNullOrWhiteSpace(tokenFile) ? GatewayTls.ReadTokenFile(tokenFile, "--token-file", out warning)
            : environment(TokenVariable) is { } fromEnv && !string.IsNullOrWhiteSpace(fromEnv) ? fromEnv.Trim()
            : environment(TokenFileVariable) is { Length: > 0 } envFile ? GatewayTls.ReadTokenFile(envFile, TokenFileVariable, out warning)
            : contextTokenFile is not null ? GatewayTls.ReadTokenFile(contextTokenFile, $"token_file of {connection.Source}", out warning)
            : null;
        return connection with { Token = token, Warning = warning };
    }

    /// <summary>Loads the configuration (see <see cref="Load"/>) and resolves where to connect (see <see cref="Resolve"/>).</summary>
    /// <exception cref="FlameClientConfigurationException">The file or a value is malformed, or the context unknown.</exception>
    /// <param name="endpoints">Endpoints given explicitly, or null/empty.</param>
    /// <param name="context">A context named explicitly, or null.</param>
    /// <param name="environment">Reads an environment variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <param name="path">The configuration file, overriding <c>FLAME_CONFIG</c> (e.g. flmctl's <c>--config</c>), or null.</param>
    /// <param name="tokenFile">A token file given explicitly (e.g. <c>--token-file</c>), or null.</param>
    public static FlameConnection ResolveConnection(IEnumerable<string>? endpoints = null, string? context = null,
        Func<string, string?>? environment = null, string? path = null, string? tokenFile = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitEndpoints = endpoints?.Any(e => !string.IsNullOrWhiteSpace(e)) == true
                                || !string.IsNullOrWhiteSpace(environment(EndpointVariable));
        // Explicit endpoints win over every context, so the file is not needed (nor can it get in the way).
        var config = explicitEndpoints ? new FlameClientConfig(DefaultPath, null, []) : Load(path, environment);
        return config.Resolve(endpoints, context, environment, tokenFile: tokenFile);
    }

    private static IReadOnlyList<Uri> ParseEndpoints(string text, string source) =>
        GatewayChannels.TryParseList(text, assumeHttp: true, out var list, out var error)
            ? list
            : throw new FlameClientConfigurationException($"{source}: {error}");

    private static string Names(IEnumerable<FlameContext> contexts) =>
        contexts.Any() ? string.Join(", ", contexts.Select(c => c.Name)) : "none";

    /// <summary>Reads nodes of one file, naming the file, line and key in every error.</summary>
    private sealed class Reader(string path)
    {
        public FlameClientConfigurationException Error(YamlNode node, string key, string problem) =>
            new($"{path}:{node.Start.Line}: {key}: {problem}");

        public YamlMappingNode Map(YamlNode node, string key) =>
            node as YamlMappingNode ?? throw Error(node, key.Length == 0 ? "(top level)" : key, "must be a mapping of keys to values");

        public static YamlNode? ChildOf(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        public YamlNode? Child(YamlMappingNode map, string key) => ChildOf(map, key);

        public void OnlyKeys(YamlMappingNode map, string prefix, params string[] known)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                if (!known.Contains(name))
                {
                    var hint = name.Replace('-', '_') is var underscored && known.Contains(underscored) ? $"; did you mean '{underscored}'?" : "";
                    throw Error(key, prefix + name, $"unknown key; the keys here are {string.Join(", ", known)}{hint}");
                }
            }
        }

        public string? OptionalString(YamlMappingNode map, string prefix, string key)
        {
            var node = ChildOf(map, key);
            if (node is null)
                return null;
            if (node is not YamlScalarNode { Value: { Length: > 0 } value })
                throw Error(node, prefix + key, "must be a non-empty string");
            return value;
        }

        public FlameContext ReadContext(YamlNode node, string key)
        {
            var map = Map(node, key);
            OnlyKeys(map, key + ".", "name", "cluster", "cache", "package");
            var name = OptionalString(map, key + ".", "name") ?? throw Error(node, key + ".name", "is missing");
            var cluster = Map(ChildOf(map, "cluster") ?? throw Error(node, key + ".cluster", "is missing"), key + ".cluster");
            var prefix = key + ".cluster.";
            OnlyKeys(cluster, prefix, "endpoint", "endpoints", "tls", "token_file");

            var one = ChildOf(cluster, "endpoint");
            var many = ChildOf(cluster, "endpoints");
            if ((one is null) == (many is null))
                throw Error(cluster, prefix + "endpoint", "give exactly one of endpoint (one address) and endpoints (a list)");
            var endpoints = new List<Uri>();
            var entries = one is not null
                ? [(one, prefix + "endpoint")]
                : (many as YamlSequenceNode ?? throw Error(many!, prefix + "endpoints", "must be a list of addresses"))
                    .Children.Select((n, i) => (n, $"{prefix}endpoints[{i}]")).ToList();
            if (entries.Count == 0)
                throw Error(many!, prefix + "endpoints", "is empty; give at least one address");
            foreach (var (entry, entryKey) in entries)
            {
                if (entry is not YamlScalarNode { Value: { Length: > 0 } text })
                    throw Error(entry, entryKey, $"must be an address like {GatewayChannels.Example}");
                if (!GatewayChannels.TryParse(text, assumeHttp: false, out var uri, out var error))
                    throw Error(entry, entryKey, error);
                endpoints.Add(uri);
            }
            if (endpoints.Select(u => u.Scheme).Distinct().Count() > 1)
                throw Error(cluster, prefix + "endpoints", "mixes http:// and https:// addresses; a channel is either plaintext or TLS");

            string? caFile = null;
            if (ChildOf(cluster, "tls") is { } tlsNode)
            {
                var tls = Map(tlsNode, prefix + "tls");
                OnlyKeys(tls, prefix + "tls.", "ca_file");
                caFile = OptionalString(tls, prefix + "tls.", "ca_file");
                if (caFile is not null)
                {
                    caFile = ExpandHome(caFile);
                    if (!File.Exists(caFile))
                        throw Error(ChildOf(tls, "ca_file")!, prefix + "tls.ca_file", $"the file '{caFile}' does not exist");
                    if (endpoints[0].Scheme != Uri.UriSchemeHttps)
                        throw Error(tlsNode, prefix + "tls.ca_file", "is given but the endpoints are http://; use https:// addresses for TLS");
                }
            }
            var tokenFile = OptionalString(cluster, prefix, "token_file") is { } file ? ExpandHome(file) : null;
            return new FlameContext(name, endpoints, caFile, tokenFile);
        }

        private static string ExpandHome(string file) =>
            file.StartsWith("~/", StringComparison.Ordinal)
                ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), file[2..])
                : file;
    }
}

/// <summary>A named cluster of the client configuration file.</summary>
/// <param name="Name">The context's name.</param>
/// <param name="Endpoints">Its gateways, in the order they are tried.</param>
/// <param name="CaFile">A PEM file of the CA that signs the gateways' certificates (https only), or null for the system's trust.</param>
/// <param name="TokenFile">A file holding the bearer token (<c>token_file</c>), or null.</param>
public sealed record FlameContext(string Name, IReadOnlyList<Uri> Endpoints, string? CaFile, string? TokenFile = null);

/// <summary>Where a client connects.</summary>
/// <param name="Endpoints">The gateways, in the order they are tried; at least one, all http or all https.</param>
/// <param name="CaFile">A PEM file of the CA that signs the gateways' certificates, or null for the system's trust.</param>
/// <param name="Source">Where the endpoints came from, for messages: <c>--endpoint</c>, <c>FLAME_ENDPOINT</c>, a context of a file, or <c>default</c>.</param>
public sealed record FlameConnection(IReadOnlyList<Uri> Endpoints, string? CaFile, string Source)
{
    /// <summary>The endpoints as one comma-separated string, e.g. for messages and for <c>FLAME_ENDPOINT</c>.</summary>
    public string Display => string.Join(",", Endpoints.Select(u => u.GetLeftPart(UriPartial.Authority)));

    /// <summary>The bearer token sent with every call (<c>authorization: Bearer</c>), or null to send none.</summary>
    public string? Token { get; init; }

    /// <summary>One line for the user about the credentials (e.g. a token file others can read), or null.</summary>
    public string? Warning { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Display} ({Source}){(Token is null ? "" : ", with a token")}";
}

/// <summary>The client configuration (file, environment or options) cannot be used; the message names the file or source, the key and the problem.</summary>
public sealed class FlameClientConfigurationException(string message) : Exception(message);
