namespace Flame.SessionManager.Hosting;

/// <summary>
/// The switches of <c>flame-session-manager</c> that are not configuration keys: <c>--config FILE</c> (the cluster
/// file) and <c>--init-db</c>. Everything else (<c>--Flame:Cluster:Provider=Postgres</c>, …) goes to the standard
/// command-line configuration provider.
/// </summary>
public sealed record SessionManagerCommandLine
{
    /// <summary>The cluster file, YAML or JSON, given with <c>--config</c>.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>The arguments left for the command-line configuration provider, <c>--init-db</c> turned into its key.</summary>
    public IReadOnlyList<string> Rest { get; init; } = [];

    /// <summary>Splits <paramref name="args"/>.</summary>
    /// <exception cref="FlameConfigurationException"><c>--config</c> without a file.</exception>
    public static SessionManagerCommandLine Parse(IReadOnlyList<string> args)
    {
        string? config = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--config")
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new FlameConfigurationException("switch '--config' needs a file");
                config = args[++i];
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                config = arg["--config=".Length..];
                if (config.Length == 0)
                    throw new FlameConfigurationException("switch '--config' needs a file");
            }
            else if (arg == "--init-db")
            {
                rest.Add($"--{Options.FlameClusterOptions.Section}:{nameof(Options.FlameClusterOptions.InitDatabase)}=true");
            }
            else
            {
                rest.Add(arg);
            }
        }
        return new SessionManagerCommandLine { ConfigFile = config, Rest = rest };
    }
}
