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
///       token_file: ~/.flame/token                    # sent as authorization: Bearer TOKEN
///     cache: {endpoint: "grpc://127.0.0.1:9090", tls: {ca_file: /etc/flame/ca.pem}, storage: /var/lib/flame/cache}
///     package: {storage: "file:///var/lib/flame/packages", excludes: ["*.log"]}
///     runner: {template: flmrun}
/// </code>
/// </summary>
/// <remarks>
/// Where a client connects, first match wins: endpoints given explicitly (flmctl's <c>--endpoint</c>), then
/// <c>FLAME_ENDPOINT</c> (a comma-separated list), then the context named explicitly, by <c>FLAME_CONTEXT</c> or by
/// <c>current-context</c>, then <see cref="DefaultEndpoint"/>. The CA: <c>FLAME_CA_FILE</c>, else the context's
/// <c>tls.ca_file</c>. The token: a token file given explicitly (<c>--token-file</c>), else <c>FLAME_TOKEN</c>, else
/// <c>FLAME_TOKEN_FILE</c>, else the context's <c>token_file</c>; without one, calls carry no credential. A missing file
/// is an empty configuration. Flame's <c>cache</c>, <c>package</c> and <c>runner</c> sections are read and not used by
/// this client (the cache's endpoint is <see cref="FlameContext.CacheEndpoint"/>, for flmctl's object commands); any other key is ignored, as Flame ignores it, and reported in <see cref="Warnings"/> so that a misspelt
/// key is noticed.
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
    /// The CA (the context's <c>tls.ca_file</c>, else <c>FLAME_CA_FILE</c>, as in Flame's SDKs, which fill it only where unset) and the token, read now so that a missing or empty token file
    /// is reported before any call. The CA applies to https gateways only: FLAME_CA_FILE set for every shell must not
    /// break a plaintext loopback gateway.
    /// </summary>
    private static FlameConnection WithCredentials(FlameConnection connection, string? contextTokenFile, string? tokenFile,
        Func<string, string?> environment)
    {
        if (connection.CaFile is null && environment(CaFileVariable) is { Length: > 0 } caFile)
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
    /// <param name="warn">Receives each of the file's <see cref="Warnings"/>; default: written to stderr, one line each.</param>
    public static FlameConnection ResolveConnection(IEnumerable<string>? endpoints = null, string? context = null,
        Func<string, string?>? environment = null, string? path = null, string? tokenFile = null, Action<string>? warn = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitEndpoints = endpoints?.Any(e => !string.IsNullOrWhiteSpace(e)) == true
                                || !string.IsNullOrWhiteSpace(environment(EndpointVariable));
        // Explicit endpoints win over every context, so the file is not needed (nor can it get in the way).
        var config = explicitEndpoints ? new FlameClientConfig(DefaultPath, null, []) : Load(path, environment);
        warn ??= line => Console.Error.WriteLine($"flame: warning: {line}");
        foreach (var line in config.Warnings)
            warn(line);
        return config.Resolve(endpoints, context, environment, tokenFile: tokenFile);
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
/// <param name="TokenFile">A file holding the bearer token (<c>token_file</c>), or null.</param>
/// <param name="CacheEndpoint">The object cache's endpoint (<c>cache.endpoint</c>, e.g. <c>grpc://127.0.0.1:9090</c>), or null.</param>
public sealed record FlameContext(string Name, IReadOnlyList<Uri> Endpoints, string? CaFile, string? TokenFile = null, string? CacheEndpoint = null);

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
