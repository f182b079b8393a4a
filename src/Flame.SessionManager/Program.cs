using Flame.SessionManager.Hosting;

try
{
    var app = SessionManagerApp.Create(args);
    await app.PrepareAsync();
    await app.RunAsync();
    return 0;
}
catch (FlameConfigurationException ex)
{
    Console.Error.WriteLine($"flame-session-manager: {ex.Message}");
    return 2;
}
catch (FlameStartupException ex)
{
    Console.Error.WriteLine($"flame-session-manager: {ex.Message}");
    return 1;
}
