namespace Flame.ExecutorManager.Hosting;

/// <summary>
/// The executable's command line: a few switches, each mapped onto a key of <see cref="FlameExecutorManagerOptions"/>,
/// plus <c>--config FILE</c> (the cluster file, YAML or JSON). Every other key is set in the JSON file or in environment variables.
/// </summary>
public sealed record ExecutorManagerCommandLine
{
    /// <summary>The one-screen help printed by <c>--help</c>.</summary>
    public const string Usage = """
        Usage: flame-executor-manager [options]

        Runs the executors of one node of a Flame cluster.

        Options:
          --endpoint URL     the gateway, e.g. http://127.0.0.1:8080; (Flame:ExecutorManager:Endpoint)
                             several: URL,URL,... (failover in order)
          --slots N          executors run at once; default: cores    (Flame:ExecutorManager:Slots)
          --node NAME        the node's name; default: the host name  (Flame:ExecutorManager:NodeName)
          --work-dir DIR     sockets, logs, working dirs; /tmp/flame  (Flame:ExecutorManager:WorkDirectory)
          --ca-file FILE     PEM CA that https gateways must chain to (Flame:ExecutorManager:CaFile)
          --token-file FILE  this node's token                        (Flame:ExecutorManager:TokenFile)
          --config FILE      the cluster file (YAML or JSON) with a Flame: ExecutorManager: section
          -h, --help         this help

        Environment variables such as Flame__ExecutorManager__TaskTimeout=00:05:00 set the other keys.
        """;

    private static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--endpoint"] = $"{FlameExecutorManagerOptions.Section}:{nameof(FlameExecutorManagerOptions.Endpoint)}",
        ["--slots"] = $"{FlameExecutorManagerOptions.Section}:{nameof(FlameExecutorManagerOptions.Slots)}",
        ["--node"] = $"{FlameExecutorManagerOptions.Section}:{nameof(FlameExecutorManagerOptions.NodeName)}",
        ["--work-dir"] = $"{FlameExecutorManagerOptions.Section}:{nameof(FlameExecutorManagerOptions.WorkDirectory)}",
        ["--ca-file"] = $"{FlameExecutorManagerOptions.Section}:{nameof(FlameExecutorManagerOptions.CaFile)}",
        ["--token-file"] = $"{FlameExecutorManagerOptions.Section}:{nameof(FlameExecutorManagerOptions.TokenFile)}",
    };

    /// <summary>True when help was asked for: print <see cref="Usage"/> and do nothing else.</summary>
    public bool ShowHelp { get; init; }

    /// <summary>The full path of the cluster file given with <c>--config</c>, if any.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Configuration keys set by switches; they win over the file and the environment.</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    /// <summary>Parses <c>--switch VALUE</c> and <c>--switch=VALUE</c>.</summary>
    /// <exception cref="ExecutorManagerConfigurationException">An unknown switch, a missing value, a missing config file.</exception>
    public static ExecutorManagerCommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        string? configFile = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-?")
                return new ExecutorManagerCommandLine { ShowHelp = true };

            string name;
            string? value = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 2)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
            }

            if (name != "--config" && !Switches.ContainsKey(name))
                throw new ExecutorManagerConfigurationException(
                    $"unknown {(name.StartsWith('-') ? "switch" : "argument")} '{name}'; known switches: --endpoint, --slots, --node, --work-dir, --ca-file, --token-file, --config, --help");

            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new ExecutorManagerConfigurationException($"switch '{name}' needs a value");
                value = args[++i];
            }
            if (string.IsNullOrWhiteSpace(value))
                throw new ExecutorManagerConfigurationException($"switch '{name}' needs a value");

            if (name == "--config")
            {
                var path = Path.GetFullPath(value);
                if (!File.Exists(path))
                    throw new ExecutorManagerConfigurationException($"switch '--config': file '{path}' does not exist");
                configFile = path;
            }
            else
            {
                if (name == "--slots" && !int.TryParse(value, out _))
                    throw new ExecutorManagerConfigurationException($"switch '--slots': '{value}' is not a whole number");
                if (name is "--work-dir" or "--ca-file" or "--token-file")
                    value = Path.GetFullPath(value);
                overrides[Switches[name]] = value;
            }
        }
        return new ExecutorManagerCommandLine { ConfigFile = configFile, Overrides = overrides };
    }
}
