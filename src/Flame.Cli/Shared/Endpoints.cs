using Flame.Client.Configuration;

namespace Flame.Cli;

/// <summary>
/// Where the tools connect: the --endpoint option (repeated or comma-separated), else FLAME_ENDPOINT, else the
/// context named by --context, FLAME_CONTEXT or the current-context of the client configuration file, else
/// Flame's default (see <see cref="FlameClientConfig"/>).
/// </summary>
public static class Endpoints
{
    /// <summary>Flame's default gateway address.</summary>
    public const string Default = FlameClientConfig.DefaultEndpoint;

    /// <summary>The help text of the --endpoint option.</summary>
    public const string EndpointHelp =
        "A gateway, e.g. http://127.0.0.1:8080; repeat it or separate with commas for several (default: $FLAME_ENDPOINT, else the context's, else " + Default + ")";

    /// <summary>The help text of the --context option.</summary>
    public const string ContextHelp = "A context of the client configuration file (~/.flame/flame.yaml or $FLAME_CONFIG; default: $FLAME_CONTEXT, else its current-context)";

    /// <summary>The help text of the --config option.</summary>
    public const string ConfigHelp = "The client configuration file (default: $FLAME_CONFIG, else ~/.flame/flame.yaml)";

    /// <summary>The help text of the --token-file option.</summary>
    public const string TokenFileHelp = "A file holding the token sent to the gateway (default: $FLAME_TOKEN, else $FLAME_TOKEN_FILE, else the context's token_file)";

    /// <summary>
    /// The gateways to use, with the CA and token; the configuration file's warnings (unknown keys) and a warning about
    /// the token file go to <paramref name="stderr"/>, one line each.
    /// </summary>
    /// <exception cref="FlameClientConfigurationException">The file or a value is malformed, the context unknown, or a token file missing or empty.</exception>
    public static FlameConnection Resolve(IEnumerable<string>? endpoints, string? context, string? configFile, string? tokenFile,
        string tool, TextWriter stderr)
    {
        var connection = FlameClientConfig.ResolveConnection(endpoints, context, path: configFile, tokenFile: tokenFile,
            warn: line => stderr.WriteLine($"{tool}: warning: {line}"));
        if (connection.Warning is { } warning)
            stderr.WriteLine($"{tool}: warning: {warning}");
        return connection;
    }
}
