using Flame.Hosting;
using Flame.SessionManager.Options;
using Flame.SessionManager.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Flame.SessionManager.Hosting;

/// <summary>Builds a ready-to-run session manager; used by Program and by tests and benchmarks that host one in-process.</summary>
public static partial class SessionManagerApp
{
    /// <summary>
    /// Creates the application from command-line arguments plus optional configuration overrides. Configuration,
    /// lowest first: appsettings.json; the <c>--config</c> cluster file; environment variables; the command line;
    /// <paramref name="overrides"/>.
    /// </summary>
    /// <exception cref="FlameConfigurationException">The configuration cannot be used.</exception>
    public static WebApplication Create(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var commandLine = SessionManagerCommandLine.Parse(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. commandLine.Rest],
            // appsettings.json sits next to the binary, wherever the process is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (commandLine.ConfigFile is { } file)
        {
            try
            {
                builder.Configuration.AddClusterConfigurationFile(file);
            }
            catch (InvalidDataException ex)
            {
                throw new FlameConfigurationException(ex.Message);
            }
            // The environment and the command line win over the file, as they do over appsettings.json.
            builder.Configuration.AddEnvironmentVariables();
            builder.Configuration.AddCommandLine([.. commandLine.Rest]);
        }
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);
        builder.AddFlameSessionManager();
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

    [LoggerMessage(1, LogLevel.Information, "{Summary}")]
    private static partial void LogSecurity(ILogger logger, string summary);

    [LoggerMessage(2, LogLevel.Warning, "{Summary}")]
    private static partial void LogInsecure(ILogger logger, string summary);

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
            Directory.CreateDirectory(directory);
            return new FileStream(Path.Combine(directory, "flame.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
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

/// <summary>Something the session manager needs at start is not there (e.g. its database). The host prints the message and exits 1.</summary>
public sealed class FlameStartupException(string message) : Exception(message);
