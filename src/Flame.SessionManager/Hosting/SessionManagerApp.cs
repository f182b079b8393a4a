namespace Flame.SessionManager.Hosting;

/// <summary>Builds a ready-to-run session manager; used by Program and by tests and benchmarks that host one in-process.</summary>
public static class SessionManagerApp
{
    /// <summary>Creates the application from command-line arguments plus optional configuration overrides.</summary>
    /// <exception cref="FlameConfigurationException">The configuration cannot be used.</exception>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json sits next to the binary, wherever the process is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);
        builder.AddFlameSessionManager();
        var app = builder.Build();
        app.MapFlameGateway();
        return app;
    }
}
