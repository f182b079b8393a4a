using Flame.ExecutorManager.Hosting;
using Microsoft.Extensions.Hosting;

try
{
    var commandLine = ExecutorManagerCommandLine.Parse(args);
    if (commandLine.ShowHelp)
    {
        Console.WriteLine(ExecutorManagerCommandLine.Usage);
        return 0;
    }
    await ExecutorManagerApp.Create(commandLine).RunAsync();
    return 0;
}
catch (ExecutorManagerConfigurationException ex)
{
    Console.Error.WriteLine($"flame-executor-manager: {ex.Message}");
    return 2;
}
