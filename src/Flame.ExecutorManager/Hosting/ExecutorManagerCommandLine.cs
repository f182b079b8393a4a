using Flame.Hosting;

namespace Flame.ExecutorManager.Hosting;

/// <summary>
/// The command line of <c>flame-executor-manager</c>: a few switches, each mapped onto a key of
/// <see cref="FlameExecutorManagerOptions"/>, plus what every Flame server takes (<see cref="ServerCommandLine"/>):
/// <c>--config FILE</c>, any configuration key as <c>--Section:Key=VALUE</c>, <c>--help</c>, <c>--version</c>.
/// </summary>
public static class ExecutorManagerCommandLine
{
    private const string Section = FlameExecutorManagerOptions.Section;

    /// <summary>The switches, and how <c>--help</c> describes them.</summary>
    public static ServerCommandLine Definition { get; } = new(
        "flame-executor-manager",
        "runs the executors of one node of a Flame cluster.",
        new ServerSwitch("--endpoint", $"{Section}:{nameof(FlameExecutorManagerOptions.Endpoint)}",
            "The gateway, e.g. http://127.0.0.1:8080; several: URL,URL,... (failover in order)", "URL"),
        new ServerSwitch("--slots", $"{Section}:{nameof(FlameExecutorManagerOptions.Slots)}",
            "Executors run at once; default: the number of cores", "N", ServerSwitchKind.WholeNumber),
        new ServerSwitch("--node", $"{Section}:{nameof(FlameExecutorManagerOptions.NodeName)}",
            "The node's name; default: the host name", "NAME"),
        new ServerSwitch("--work-dir", $"{Section}:{nameof(FlameExecutorManagerOptions.WorkDirectory)}",
            "Sockets, logs and working directories; default: /tmp/flame", "DIR", ServerSwitchKind.Path),
        new ServerSwitch("--ca-file", $"{Section}:{nameof(FlameExecutorManagerOptions.CaFile)}",
            "PEM CA that https gateways must chain to", "FILE", ServerSwitchKind.Path),
        new ServerSwitch("--token-file", $"{Section}:{nameof(FlameExecutorManagerOptions.TokenFile)}",
            "This node's token", "FILE", ServerSwitchKind.Path));

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <exception cref="FlameConfigurationException">An unknown switch, a missing or malformed value.</exception>
    public static ServerArguments Parse(IReadOnlyList<string> args) => Definition.Parse(args);
}
