using Flame.SessionManager.Hosting;

try
{
    await SessionManagerApp.Create(args).RunAsync();
    return 0;
}
catch (FlameConfigurationException ex)
{
    Console.Error.WriteLine($"flame-session-manager: {ex.Message}");
    return 2;
}
