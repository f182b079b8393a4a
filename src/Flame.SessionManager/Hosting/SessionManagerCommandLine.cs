namespace Flame.SessionManager.Hosting;

/// <summary>
/// The command line of <c>flame-session-manager</c>: <c>--init-db</c>, plus what every Flame server takes
/// (<see cref="ServerCommandLine"/>): <c>--config FILE</c>, any configuration key as <c>--Section:Key=VALUE</c>
/// (<c>--Flame:Cluster:Provider=Postgres</c>, …), <c>--help</c>, <c>--version</c>.
/// </summary>
public static class SessionManagerCommandLine
{
    /// <summary>The switches, and how <c>--help</c> describes them.</summary>
    public static ServerCommandLine Definition { get; } = new(
        "flame-session-manager",
        "a silo of a Flame cluster and its flame.v1 gRPC gateway, with an executor manager inside unless told otherwise.",
        new ServerSwitch("--init-db", $"{Options.FlameClusterOptions.Section}:{nameof(Options.FlameClusterOptions.InitDatabase)}",
            "Apply the PostgreSQL schema scripts at start (idempotent)", HelpName: null));

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <exception cref="FlameConfigurationException">An unknown switch, a missing or malformed value.</exception>
    public static ServerArguments Parse(IReadOnlyList<string> args) => Definition.Parse(args);
}
