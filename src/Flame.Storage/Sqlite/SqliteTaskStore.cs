using System.Data;
using System.Data.Common;
using Flame.Storage.GroupCommit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flame.Storage.Sqlite;

/// <summary>
/// The task store of a single node: one SQLite database file in WAL mode. One writer connection applies the
/// group-committed batches with prepared statements; reads use other (pooled) connections, which WAL lets run beside
/// the writer. Durability: <see cref="FlameTaskStoreOptions.SqliteFullSync"/>. A failed batch is not retried (SQLite
/// errors such as a full disk do not go away by themselves); its callers get the <see cref="SqliteException"/>, or a
/// <see cref="TaskStoreFullException"/> when the disk is full.
/// </summary>
public sealed class SqliteTaskStore : GroupCommitTaskStore
{
    private readonly string _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteWrites _writes;

    /// <summary>A store on the database file <paramref name="path"/>, created with its directory and schema if missing.</summary>
    public SqliteTaskStore(string path, FlameTaskStoreOptions? options = null, ILogger<SqliteTaskStore>? logger = null)
        : base(options, logger ?? NullLogger<SqliteTaskStore>.Instance)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(directory);
            else
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true };
        _readConnectionString = builder.ToString();
        // The writer's connection is never shared, so it needs no pool: closing it releases the file at once.
        builder.Pooling = false;
        _writer = new SqliteConnection(builder.ToString());
        _writer.Open();
        try
        {
            Execute(_writer, "PRAGMA journal_mode=WAL");
            MakePrivate(path);
            Execute(_writer, Options.SqliteFullSync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
            SqliteSchema.Apply(_writer);
            _writes = new SqliteWrites(_writer, Options.PayloadThreshold);
        }
        catch
        {
            _writer.Dispose();
            throw;
        }
        StartWriter();
    }

    /// <summary>
    /// The database and its WAL and shared-memory files hold every task's input and output: 0600, also for files an
    /// older version created readable by all. SQLite gives the WAL and SHM files it creates later the database's mode.
    /// </summary>
    private static void MakePrivate(string path)
    {
        if (OperatingSystem.IsWindows())
            return;
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            if (File.Exists(file))
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private protected override Task ApplyAsync(WriteSet batch)
    {
        // Microsoft.Data.Sqlite is synchronous underneath; this runs on the writer loop's own thread-pool turn.
        _writes.Apply(batch);
        return Task.CompletedTask;
    }

    // SQLITE_FULL (13), whatever its extended code: the file could not grow.
    private protected override bool IsFull(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: var code } && (code & 0xFF) == 13 || base.IsFull(exception);

    private protected override ValueTask DisposeResourcesAsync()
    {
        _writes.Dispose();
        _writer.Dispose();
        using (var any = new SqliteConnection(_readConnectionString))
            SqliteConnection.ClearPool(any);
        return ValueTask.CompletedTask;
    }

    // SQLite's default collation (BINARY) compares UTF-8 bytes: ordinal order for every character in the BMP.
    private protected override string OrdinalOrder => "";

    private protected override string OpenSessions => "open = 1";

    private protected override string ClosedSessions => "open = 0";

    private protected override string SpecText(string field) => $"json_extract(json, '$.spec.{field}')";

    private protected override string SpecNumber(string field) => SpecText(field);

    private protected override async Task<DbDataReader> QueryAsync(string sql, object[] parameters, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < parameters.Length; i++)
                command.Parameters.AddWithValue($"${i + 1}", parameters[i]);
            // Disposing the reader closes the connection (back to the pool), which also finalises the command.
            return await command.ExecuteReaderAsync(CommandBehavior.CloseConnection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
