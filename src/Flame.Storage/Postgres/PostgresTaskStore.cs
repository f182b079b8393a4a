using System.Runtime.CompilerServices;
using Flame.Storage.GroupCommit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Flame.Storage.Postgres;

/// <summary>
/// The task store on PostgreSQL (schema <c>deploy/postgres/002_flame_store.sql</c>). Writes are group-committed:
/// each batch is one round trip of set-based statements (<c>unnest</c> of arrays), in the implicit transaction that
/// PostgreSQL gives the statements before one Sync. Reads run on pooled connections; tasks are streamed.
/// A batch that fails because the server is unreachable or restarting is retried for
/// <see cref="FlameTaskStoreOptions.RetryWindow"/>, then its callers get the <see cref="NpgsqlException"/>.
/// </summary>
public sealed class PostgresTaskStore : GroupCommitTaskStore
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>A store on the database of <paramref name="connectionString"/> (an Npgsql connection string).</summary>
    public PostgresTaskStore(string connectionString, FlameTaskStoreOptions? options = null, ILogger<PostgresTaskStore>? logger = null)
        : base(options, logger ?? NullLogger<PostgresTaskStore>.Instance)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // The store runs a dozen fixed statements over and over: preparing them saves a parse and plan per statement
        // per batch (measured: 15-30 % more changes/s when commits are not waiting for fsync). Their generic plans are
        // primary-key lookups and unnest upserts, which do not depend on the values.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        _dataSource = builder.Build();
        StartWriter();
    }

    private protected override bool IsTransient(Exception exception) => exception is NpgsqlException { IsTransient: true };

    // Idle pooled connections to a server that restarted are dead: drop them rather than fail on each in turn.
    private protected override void OnTransientFailure() => _dataSource.Clear();

    private protected override async Task ApplyAsync(WriteSet batch)
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var command = new NpgsqlBatch(connection);
        PostgresWrites.Add(command, batch, Options.PayloadThreshold);
        if (command.BatchCommands.Count > 0)
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private protected override ValueTask DisposeResourcesAsync() => _dataSource.DisposeAsync();

    /// <inheritdoc />
    public override async Task<IReadOnlyList<StoredApplication>> LoadApplicationsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT name, json FROM flame_applications ORDER BY name COLLATE \"C\"");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var applications = new List<StoredApplication>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            applications.Add(new StoredApplication { Name = reader.GetString(0), Json = reader.GetString(1) });
        return applications;
    }

    /// <inheritdoc />
    public override async Task<StoredSession?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT id, application, open, creation_time, completion_time, json FROM flame_sessions WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sessionId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new StoredSession
        {
            Id = reader.GetString(0),
            Application = reader.GetString(1),
            Open = reader.GetBoolean(2),
            CreationTime = reader.GetInt64(3),
            CompletionTime = reader.IsDBNull(4) ? null : reader.GetInt64(4),
            Json = reader.GetString(5),
        };
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<string>> LoadSessionIdsAsync(bool openOnly, CancellationToken cancellationToken = default)
    {
        // COLLATE "C": ordinal order, as the contract and the other stores have it, whatever the database's collation.
        await using var command = _dataSource.CreateCommand(openOnly
            ? "SELECT id FROM flame_sessions WHERE open ORDER BY id COLLATE \"C\""
            : "SELECT id FROM flame_sessions ORDER BY id COLLATE \"C\"");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            ids.Add(reader.GetString(0));
        return ids;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<StoredTask> LoadTasksAsync(string sessionId, long afterId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PostgresWrites.SelectTasks + " AND t.task_id > $2 ORDER BY t.task_id");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sessionId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterId });
        // Rows are read as they arrive: a session of millions of tasks is never held in memory.
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            yield return ReadTask(reader);
    }

    /// <inheritdoc />
    public override async Task<StoredTask?> LoadTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PostgresWrites.SelectTasks + " AND t.task_id = $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sessionId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = taskId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTask(reader) : null;
    }

    private static StoredTask ReadTask(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        State = reader.GetInt16(1),
        Attempts = reader.GetInt32(2),
        Input = reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3),
        Output = reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4),
        Message = reader.IsDBNull(5) ? null : reader.GetString(5),
        CreationTime = reader.GetInt64(6),
        StartTime = reader.GetInt64(7),
        CompletionTime = reader.GetInt64(8),
        History = reader.IsDBNull(9) ? null : reader.GetString(9),
    };
}
