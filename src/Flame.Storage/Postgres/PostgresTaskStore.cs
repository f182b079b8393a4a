using System.Data.Common;
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

    // 53100 disk_full; 53400 configuration_limit_exceeded (e.g. a temp_file_limit).
    private protected override bool IsFull(Exception exception) =>
        exception is PostgresException { SqlState: "53100" or "53400" } || base.IsFull(exception);

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

    // COLLATE "C": ordinal order, whatever the database's collation.
    private protected override string OrdinalOrder => "COLLATE \"C\"";

    private protected override string OpenSessions => "open";

    private protected override string ClosedSessions => "NOT open";

    private protected override string SpecText(string field) => $"(json::jsonb #>> '{{spec,{field}}}')";

    private protected override string SpecNumber(string field) => $"({SpecText(field)})::numeric";

    private protected override async Task<DbDataReader> QueryAsync(string sql, object[] parameters, CancellationToken cancellationToken)
    {
        // A data source's command opens a pooled connection and returns it when the reader is disposed. The command
        // itself is left to the GC: disposing it here would be under the reader still in use.
        var command = _dataSource.CreateCommand(sql);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
    }
}
