using System.Runtime.CompilerServices;
using Flame.Storage.GroupCommit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flame.Storage.Sqlite;

/// <summary>
/// The task store of a single node: one SQLite database file in WAL mode. One writer connection applies the
/// group-committed batches with prepared statements; reads use other (pooled) connections, which WAL lets run beside
/// the writer. Durability: <see cref="FlameTaskStoreOptions.SqliteFullSync"/>. A failed batch is not retried (SQLite
/// errors such as a full disk do not go away by themselves); its callers get the <see cref="SqliteException"/>.
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
        if (directory is not null)
            Directory.CreateDirectory(directory);
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true };
        _readConnectionString = builder.ToString();
        // The writer's connection is never shared, so it needs no pool: closing it releases the file at once.
        builder.Pooling = false;
        _writer = new SqliteConnection(builder.ToString());
        _writer.Open();
        try
        {
            Execute(_writer, "PRAGMA journal_mode=WAL");
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

    private protected override ValueTask DisposeResourcesAsync()
    {
        _writes.Dispose();
        _writer.Dispose();
        using (var any = new SqliteConnection(_readConnectionString))
            SqliteConnection.ClearPool(any);
        return ValueTask.CompletedTask;
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<StoredApplication>> LoadApplicationsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, json FROM flame_applications ORDER BY name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var applications = new List<StoredApplication>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            applications.Add(new StoredApplication { Name = reader.GetString(0), Json = reader.GetString(1) });
        return applications;
    }

    /// <inheritdoc />
    public override async Task<StoredSession?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, application, open, creation_time, completion_time, json FROM flame_sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new StoredSession
        {
            Id = reader.GetString(0),
            Application = reader.GetString(1),
            Open = reader.GetInt64(2) != 0,
            CreationTime = reader.GetInt64(3),
            CompletionTime = reader.IsDBNull(4) ? null : reader.GetInt64(4),
            Json = reader.GetString(5),
        };
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<string>> LoadSessionIdsAsync(bool openOnly, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // SQLite's default collation (BINARY) compares UTF-8 bytes: the same order as ordinal UTF-16 comparison
        // except for characters beyond the BMP, which session ids do not use.
        command.CommandText = openOnly
            ? "SELECT id FROM flame_sessions WHERE open = 1 ORDER BY id"
            : "SELECT id FROM flame_sessions ORDER BY id";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            ids.Add(reader.GetString(0));
        return ids;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<StoredTask> LoadTasksAsync(string sessionId, long afterId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = SqliteWrites.SelectTasks + " AND t.task_id > $after ORDER BY t.task_id";
        command.Parameters.AddWithValue("$session", sessionId);
        command.Parameters.AddWithValue("$after", afterId);
        // Stepped row by row: a session of millions of tasks is never held in memory.
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            yield return ReadTask(reader);
    }

    /// <inheritdoc />
    public override async Task<StoredTask?> LoadTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = SqliteWrites.SelectTasks + " AND t.task_id = $task";
        command.Parameters.AddWithValue("$session", sessionId);
        command.Parameters.AddWithValue("$task", taskId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTask(reader) : null;
    }

    private static StoredTask ReadTask(SqliteDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        State = reader.GetInt32(1),
        Attempts = reader.GetInt32(2),
        Input = reader.IsDBNull(3) ? null : Blob(reader, 3),
        Output = reader.IsDBNull(4) ? null : Blob(reader, 4),
        Message = reader.IsDBNull(5) ? null : reader.GetString(5),
        CreationTime = reader.GetInt64(6),
        StartTime = reader.GetInt64(7),
        CompletionTime = reader.GetInt64(8),
        History = reader.IsDBNull(9) ? null : reader.GetString(9),
    };

    // An empty blob reads back as an empty array (distinct from NULL) only through GetFieldValue<byte[]>.
    private static byte[] Blob(SqliteDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);
}
