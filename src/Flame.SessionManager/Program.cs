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
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // The Backend's own port (the frontend's + 1 by default) is the one most likely taken by something else.
    Console.Error.WriteLine($"flame-session-manager: {ex.Message} Give Flame:SessionManager:Endpoint or Flame:SessionManager:BackendEndpoint another port ('none' turns the Backend's own port off).");
    return 1;
}
