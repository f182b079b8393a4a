namespace Flame.Hosting;

/// <summary>
/// Configuration that cannot be used, named by its key or switch, in one readable line. Both server processes print
/// the message and exit with code 2 (<see cref="ServerCommandLine.RunAsync"/>); a host that embeds one of them sees it
/// when it builds.
/// </summary>
public sealed class FlameConfigurationException(string message) : Exception(message);

/// <summary>
/// Something a server process needs at start is not there (its database, a free port). The process prints the message
/// and exits with code 1.
/// </summary>
public sealed class FlameStartupException(string message) : Exception(message);
