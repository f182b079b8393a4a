namespace Flame.ExecutorManager.Hosting;

/// <summary>
/// Configuration of the executor manager that cannot be used, named by its key or switch. The executable prints
/// the message on one line and exits with code 2; a host that embeds the executor manager sees it at start-up.
/// </summary>
public sealed class ExecutorManagerConfigurationException(string message) : Exception(message);
