using Flame.SessionManager.Observability;
using Flame.SessionManager.Options;
using Flame.SessionManager.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Flame.SessionManager.Hosting;

/// <summary>Builds a ready-to-run session manager; used by Program and by tests and benchmarks that host one in-process.</summary>
public static partial class SessionManagerApp
{
    /// <summary>
    /// Runs <c>flame-session-manager</c> with <paramref name="args"/> until it is stopped: Program.cs is this call.
    /// Returns 0; 2 after one line on stderr when the command line or the configuration cannot be used; 1 after one
    /// line when something it needs is not there (its database, a port).
    /// </summary>
    public static Task<int> RunAsync(string[] args) =>
        SessionManagerCommandLine.Definition.RunAsync(args, async arguments =>
        {
            var app = Create(arguments);
            await app.PrepareAsync();
            try
            {
                await app.RunAsync();
            }
            catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // The Backend's own port (the frontend's + 1 by default) is the one most likely taken by something else.
                throw new FlameStartupException(
                    $"{ex.Message} Give Flame:SessionManager:Endpoint or Flame:SessionManager:BackendEndpoint another port ('none' turns the Backend's own port off).");
            }
        });

    /// <summary>Creates the application from command-line arguments plus optional configuration overrides.</summary>
    /// <exception cref="FlameConfigurationException">The command line or the configuration cannot be used.</exception>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null) =>
        Create(SessionManagerCommandLine.Parse(args), overrides);

    /// <summary>
    /// Creates the application from a parsed command line plus optional configuration overrides. Configuration,
    /// lowest first: appsettings.json; environment variables; the <c>--config</c> cluster file; environment variables
    /// again (they win over the file); the command line; <paramref name="overrides"/>.
    /// </summary>
    /// <exception cref="FlameConfigurationException">The configuration cannot be used.</exception>
    public static WebApplication Create(ServerArguments arguments, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // appsettings.json sits next to the binary, wherever the process is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddServerArguments(arguments, overrides);
        builder.AddFlameSessionManager();
        builder.AddFlameObservability();
        var app = builder.Build();
        var security = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Flame.Security");
        app.Services.GetService<GatewayCertificate>()?.UseLogger(security);
        var posture = app.Services.GetRequiredService<SecureDefaults>();
        if (posture.Insecure)
            LogInsecure(security, posture.Summary);
        else
            LogSecurity(security, posture.Summary);
        app.MapFlameGateway();
        return app;
    }

    /// <summary>
    /// What must hold before the silo starts: with PostgreSQL, the database is reachable and has our schema (applied
    /// here when <see cref="FlameClusterOptions.InitDatabase"/> is set). Call it before <c>RunAsync</c>/<c>StartAsync</c>.
    /// </summary>
    /// <exception cref="FlameStartupException">The database cannot be reached or lacks the schema.</exception>
    public static async Task PrepareAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var store = app.Services.GetRequiredService<IOptions<FlameStorageOptions>>().Value;
        if (store.Provider == StorageProvider.Sqlite)
        {
            app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(
                LockDataDirectory(store.DataDirectory!).Dispose);
            OpenStore(app, store.DataDirectory!);
        }
        var cluster = app.Services.GetRequiredService<IOptions<FlameClusterOptions>>().Value;
        if (cluster.Provider != ClusterProvider.Postgres)
            return;
        var where = Describe(cluster.ConnectionString!);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Flame.SessionManager.Storage");
        try
        {
            if (cluster.InitDatabase)
            {
                var applied = await PostgresSchema.ApplyAsync(cluster.ConnectionString!, cancellationToken);
                logger.LogInformation("Database {Database}: {Scripts}", where, applied.Count == 0 ? "schema up to date" : "applied " + string.Join(", ", applied));
            }
            else
            {
                var missing = await PostgresSchema.MissingAsync(cluster.ConnectionString!, cancellationToken);
                if (missing.Count > 0)
                    throw new FlameStartupException(
                        $"database {where} lacks schema {string.Join(", ", missing)}: run deploy/postgres/apply.sh, or start with --init-db");
            }
            OpenStore(app, where);
        }
        catch (Exception ex) when (ex is NpgsqlException or PostgresException or TimeoutException)
        {
            throw new FlameStartupException($"database {where}: {ex.Message}");
        }
    }

    /// <summary>Opens the task store now, so that a store that cannot be opened stops the start with its reason.</summary>
    private static void OpenStore(WebApplication app, string where)
    {
        try
        {
            app.Services.GetRequiredService<Flame.Storage.ITaskStore>();
        }
        catch (Exception ex) when (ex is not FlameStartupException)
        {
            var reason = ex.Message;
            for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
                reason = inner.Message;
            throw new FlameStartupException($"task store {where}: {reason}");
        }
    }

    /// <summary>
    /// Holds an exclusive lock on the data directory while the process runs: a second session manager on the same
    /// directory would write the same SQLite file behind the first one's back.
    /// </summary>
    private static FileStream LockDataDirectory(string directory)
    {
        try
        {
            // Private (0700): the store in it holds every task's input and output. One made readable by an older
            // version is closed too: it is the session manager's own.
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(directory);
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            return new FileStream(Path.Combine(directory, "flame.lock"), options);
        }
        catch (IOException ex) when (ex is not DirectoryNotFoundException)
        {
            throw new FlameStartupException($"data directory {directory} is in use by another session manager (Flame:Storage:DataDirectory): {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new FlameStartupException($"data directory {directory} cannot be written (Flame:Storage:DataDirectory): {ex.Message}");
        }
    }

    /// <summary>host:port/database, without the password.</summary>
    private static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
    }
}
