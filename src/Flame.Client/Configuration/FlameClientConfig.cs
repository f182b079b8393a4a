using Flame.Channels;

namespace Flame.Client.Configuration;

/// <summary>
/// The client configuration file, <c>~/.flame/flame.yaml</c> (or the file named by <c>FLAME_CONFIG</c>), shared
/// by flmctl, flmping and .NET clients. It has the shape of Flame's own client file, and Flame's files are read
/// unchanged:
/// <code>
/// current-context: local
/// contexts:
///   - name: local
///     cluster:
///       endpoint: http://127.0.0.1:8080               # or a list:
///       endpoints: [http://10.0.0.1:8080, http://10.0.0.2:8080]
///       tls:
///         ca_file: /etc/flame/ca.pem                  # https endpoints are verified with this CA
///     cache: {endpoint: "grpc://127.0.0.1:9090", tls: {ca_file: /etc/flame/ca.pem}, storage: /var/lib/flame/cache}
///     package: {storage: "file:///var/lib/flame/packages", excludes: ["*.log"]}
///     runner: {template: flmrun}
/// </code>
/// </summary>
/// <remarks>
/// Where a client connects, first match wins: endpoints given explicitly (flmctl's <c>--endpoint</c>), then
/// <c>FLAME_ENDPOINT</c> (a comma-separated list), then the context named explicitly, by <c>FLAME_CONTEXT</c> or by
/// <c>current-context</c>, then <see cref="DefaultEndpoint"/>. A missing file is an empty configuration. Flame's
/// <c>cache</c>, <c>package</c> and <c>runner</c> sections are read and not used by this client; any other key is
/// ignored, as Flame ignores it, and reported in <see cref="Warnings"/> so that a misspelt key is noticed.
/// </remarks>
public sealed class FlameClientConfig
{
    /// <summary>The environment variable naming the configuration file.</summary>
    public const string FileVariable = "FLAME_CONFIG";
    /// <summary>The environment variable with the gateway endpoints, comma-separated.</summary>
    public const string EndpointVariable = "FLAME_ENDPOINT";
    /// <summary>The environment variable naming the context to use.</summary>
    public const string ContextVariable = "FLAME_CONTEXT";
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
        var warnings = new List<string>();
        var documents = TypedYaml.ReadAll<ClientConfigFile>(text, path, warnings, message => new FlameClientConfigurationException(message));
        if (documents.Count == 0 || documents[0].Value is not { } file)
            return new FlameClientConfig(path, null, []) { Warnings = warnings };
        if (documents.Count > 1)
            throw new FlameClientConfigurationException($"{path}:{documents[1].LineOf("")}: the file must hold one YAML document");
        var config = file.ToConfig(documents[0], path, warnings);
        return new FlameClientConfig(path, config.CurrentContext, config.Contexts) { Warnings = warnings };
    }

    /// <summary>
    /// One line per key of the file that is not known (Flame's sections <c>cache</c>, <c>package</c> and <c>runner</c>
    /// are known) or not used (a <c>tls.ca_file</c> of http:// endpoints): such keys are ignored, as Flame ignores
    /// them, and the tools print these lines on stderr.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; private init; } = [];

    /// <summary>
    /// Where to connect, by precedence: <paramref name="endpoints"/> (each entry may be a comma-separated list),
    /// else <c>FLAME_ENDPOINT</c>, else the context <paramref name="context"/>, <c>FLAME_CONTEXT</c> or
    /// <see cref="CurrentContext"/>, else <see cref="DefaultEndpoint"/>.
    /// </summary>
    /// <param name="endpoints">Endpoints given explicitly (e.g. flmctl's <c>--endpoint</c>), or null/empty.</param>
    /// <param name="context">A context named explicitly (e.g. flmctl's <c>--context</c>), or null.</param>
    /// <param name="environment">Reads an environment variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <param name="endpointsSource">How <paramref name="endpoints"/> are named in errors; default <c>--endpoint</c>.</param>
    /// <exception cref="FlameClientConfigurationException">An endpoint is not an http(s) address, or the context is unknown.</exception>
    public FlameConnection Resolve(IEnumerable<string>? endpoints = null, string? context = null,
        Func<string, string?>? environment = null, string endpointsSource = "--endpoint")
    {
        environment ??= Environment.GetEnvironmentVariable;
        var given = endpoints?.Where(e => !string.IsNullOrWhiteSpace(e)).ToList() ?? [];
        if (given.Count > 0)
            return new FlameConnection(ParseEndpoints(string.Join(',', given), endpointsSource), null, endpointsSource);
        if (environment(EndpointVariable) is { } fromEnv && !string.IsNullOrWhiteSpace(fromEnv))
            return new FlameConnection(ParseEndpoints(fromEnv, EndpointVariable), null, EndpointVariable);

        var (name, source) = !string.IsNullOrWhiteSpace(context) ? (context, "--context")
            : environment(ContextVariable) is { Length: > 0 } envContext ? (envContext, ContextVariable)
            : (CurrentContext, "current-context");
        if (name is null)
            return new FlameConnection([new Uri(DefaultEndpoint)], null, "default");
        var chosen = Contexts.FirstOrDefault(c => c.Name == name)
            ?? throw new FlameClientConfigurationException(Contexts.Count == 0 && !File.Exists(Path)
                ? $"{source}: context '{name}' is unknown: there is no client configuration file {Path}"
                : $"{source}: context '{name}' is not in {Path} (its contexts: {Names(Contexts)})");
        return new FlameConnection(chosen.Endpoints, chosen.CaFile, $"context '{chosen.Name}' of {Path}");
    }

    /// <summary>Loads the configuration (see <see cref="Load"/>) and resolves where to connect (see <see cref="Resolve"/>).</summary>
    /// <exception cref="FlameClientConfigurationException">The file or a value is malformed, or the context unknown.</exception>
    /// <param name="endpoints">Endpoints given explicitly, or null/empty.</param>
    /// <param name="context">A context named explicitly, or null.</param>
    /// <param name="environment">Reads an environment variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <param name="path">The configuration file, overriding <c>FLAME_CONFIG</c> (e.g. flmctl's <c>--config</c>), or null.</param>
    /// <param name="warn">Receives each of the file's <see cref="Warnings"/>; default: written to stderr, one line each.</param>
    public static FlameConnection ResolveConnection(IEnumerable<string>? endpoints = null, string? context = null,
        Func<string, string?>? environment = null, string? path = null, Action<string>? warn = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitEndpoints = endpoints?.Any(e => !string.IsNullOrWhiteSpace(e)) == true
                                || !string.IsNullOrWhiteSpace(environment(EndpointVariable));
        // Explicit endpoints win over every context, so the file is not needed (nor can it get in the way).
        var config = explicitEndpoints ? new FlameClientConfig(DefaultPath, null, []) : Load(path, environment);
        warn ??= line => Console.Error.WriteLine($"flame: warning: {line}");
        foreach (var line in config.Warnings)
            warn(line);
        return config.Resolve(endpoints, context, environment);
    }

    private static IReadOnlyList<Uri> ParseEndpoints(string text, string source) =>
        GatewayChannels.TryParseList(text, assumeHttp: true, out var list, out var error)
            ? list
            : throw new FlameClientConfigurationException($"{source}: {error}");

    private static string Names(IEnumerable<FlameContext> contexts) =>
        contexts.Any() ? string.Join(", ", contexts.Select(c => c.Name)) : "none";
}

/// <summary>A named cluster of the client configuration file.</summary>
/// <param name="Name">The context's name.</param>
/// <param name="Endpoints">Its gateways, in the order they are tried.</param>
/// <param name="CaFile">A PEM file of the CA that signs the gateways' certificates (https only), or null for the system's trust.</param>
public sealed record FlameContext(string Name, IReadOnlyList<Uri> Endpoints, string? CaFile);

/// <summary>Where a client connects.</summary>
/// <param name="Endpoints">The gateways, in the order they are tried; at least one, all http or all https.</param>
/// <param name="CaFile">A PEM file of the CA that signs the gateways' certificates, or null for the system's trust.</param>
/// <param name="Source">Where the endpoints came from, for messages: <c>--endpoint</c>, <c>FLAME_ENDPOINT</c>, a context of a file, or <c>default</c>.</param>
public sealed record FlameConnection(IReadOnlyList<Uri> Endpoints, string? CaFile, string Source)
{
    /// <summary>The endpoints as one comma-separated string, e.g. for messages and for <c>FLAME_ENDPOINT</c>.</summary>
    public string Display => string.Join(",", Endpoints.Select(u => u.GetLeftPart(UriPartial.Authority)));
}

/// <summary>The client configuration (file, environment or options) cannot be used; the message names the file or source, the key and the problem.</summary>
public sealed class FlameClientConfigurationException(string message) : Exception(message);
