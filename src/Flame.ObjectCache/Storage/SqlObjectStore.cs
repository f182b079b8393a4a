using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Flame.ObjectCache.Storage;

/// <summary>
/// Objects in SQL: <c>flame_objects</c> (one small row per key, rewritten per write) and <c>flame_object_pieces</c> (the
/// base and each patch, by version), the same statements on SQLite and PostgreSQL. SQLite is one file of this
/// machine, written through one connection; PostgreSQL is the cluster's database, with pooled connections and the
/// schema of <c>deploy/postgres/005_flame_objects.sql</c>.
/// </summary>
public sealed class SqlObjectStore : IObjectStore, IAsyncDisposable
{
    /// <summary>The SQLite schema; the PostgreSQL one is the same in <c>deploy/postgres/005_flame_objects.sql</c>.</summary>
    private const string SqliteSchema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS flame_objects (
            key text PRIMARY KEY, version integer NOT NULL, base_version integer NOT NULL, native integer NOT NULL,
            bytes integer NOT NULL, tag text NOT NULL, updated integer NOT NULL);
        CREATE TABLE IF NOT EXISTS flame_object_pieces (
            key text NOT NULL, version integer NOT NULL, data blob NOT NULL, PRIMARY KEY (key, version));
        """;

    private const string MetaColumns = "key, version, base_version, native, bytes, tag, updated";

    private readonly Func<CancellationToken, ValueTask<DbConnection>> _open;
    private readonly SemaphoreSlim? _single;
    private readonly SqliteConnection? _sqlite;
    private readonly NpgsqlDataSource? _postgres;

    private SqlObjectStore(SqliteConnection sqlite)
    {
        _sqlite = sqlite;
        _single = new SemaphoreSlim(1, 1);
        _open = _ => ValueTask.FromResult<DbConnection>(sqlite);
    }

    private SqlObjectStore(NpgsqlDataSource postgres)
    {
        _postgres = postgres;
        _open = async cancellationToken => await postgres.OpenConnectionAsync(cancellationToken);
    }

    /// <summary>Opens (creating it and its schema if needed) the SQLite file at <paramref name="path"/>.</summary>
    public static SqlObjectStore OpenSqlite(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = SqliteSchema;
        command.ExecuteNonQuery();
        return new SqlObjectStore(connection);
    }

    /// <summary>Uses the PostgreSQL database of <paramref name="connectionString"/>, whose schema is applied already.</summary>
    public static SqlObjectStore OpenPostgres(string connectionString) => new(NpgsqlDataSource.Create(connectionString));

    /// <inheritdoc />
    public Task<ObjectMeta?> LoadMetaAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync(async connection =>
        {
            await using var command = Command(connection, $"SELECT {MetaColumns} FROM flame_objects WHERE key = @key", ("key", key));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadMeta(reader) : null;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ObjectPayload?> LoadPayloadAsync(ObjectMeta meta, CancellationToken cancellationToken = default) =>
        RunAsync(async connection =>
        {
            await using var command = Command(connection,
                "SELECT version, data FROM flame_object_pieces WHERE key = @key AND version >= @base ORDER BY version",
                ("key", meta.Key), ("base", meta.BaseVersion));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            byte[]? first = null;
            var patches = new List<byte[]>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var data = (byte[])reader.GetValue(1);
                if (first is null && reader.GetInt64(0) == meta.BaseVersion)
                    first = data;
                else if (first is not null && reader.GetInt64(0) <= meta.Version)
                    patches.Add(data);
            }
            return first is null || patches.Count != meta.Patches ? null : new ObjectPayload(first, patches);
        }, cancellationToken);

    /// <inheritdoc />
    public Task PutAsync(ObjectMeta meta, byte[] data, CancellationToken cancellationToken = default) =>
        WriteAsync(meta, data, dropPieces: true, cancellationToken);

    /// <inheritdoc />
    public Task AppendPatchAsync(ObjectMeta meta, byte[] data, CancellationToken cancellationToken = default) =>
        WriteAsync(meta, data, dropPieces: false, cancellationToken);

    private Task WriteAsync(ObjectMeta meta, byte[] data, bool dropPieces, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (dropPieces)
                await ExecuteAsync(connection, transaction, "DELETE FROM flame_object_pieces WHERE key = @key", cancellationToken, ("key", meta.Key));
            await ExecuteAsync(connection, transaction, "INSERT INTO flame_object_pieces (key, version, data) VALUES (@key, @version, @data)",
                cancellationToken, ("key", meta.Key), ("version", meta.Version), ("data", data));
            await ExecuteAsync(connection, transaction, $"""
                INSERT INTO flame_objects ({MetaColumns}) VALUES (@key, @version, @base, @native, @bytes, @tag, @updated)
                ON CONFLICT (key) DO UPDATE SET version = excluded.version, base_version = excluded.base_version,
                    native = excluded.native, bytes = excluded.bytes, tag = excluded.tag, updated = excluded.updated
                """, cancellationToken, ("key", meta.Key), ("version", meta.Version), ("base", meta.BaseVersion),
                ("native", meta.Native ? 1 : 0), ("bytes", meta.Bytes), ("tag", meta.Tag.ToString("N")), ("updated", meta.UpdatedMs));
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, "DELETE FROM flame_object_pieces WHERE key = @key", cancellationToken, ("key", key));
            await ExecuteAsync(connection, transaction, "DELETE FROM flame_objects WHERE key = @key", cancellationToken, ("key", key));
            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ObjectMeta>> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<ObjectMeta>>(async connection =>
        {
            // substr and length count characters in both databases; LIKE would treat '_' and '%' in keys as patterns.
            await using var command = Command(connection,
                $"SELECT {MetaColumns} FROM flame_objects WHERE substr(key, 1, length(@prefix)) = @prefix ORDER BY key", ("prefix", prefix));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var found = new List<ObjectMeta>();
            while (await reader.ReadAsync(cancellationToken))
                found.Add(ReadMeta(reader));
            return found;
        }, cancellationToken);

    private async Task<T> RunAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        if (_single is not null)
        {
            await _single.WaitAsync(cancellationToken);
            try
            {
                return await work(_sqlite!);
            }
            finally
            {
                _single.Release();
            }
        }
        await using var connection = await _open(cancellationToken);
        return await work(connection);
    }

    private static ObjectMeta ReadMeta(DbDataReader reader) => new(
        reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3) != 0, reader.GetInt64(4),
        Guid.ParseExact(reader.GetString(5), "N"), reader.GetInt64(6));

    private static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Closes the SQLite file or the PostgreSQL pool.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_sqlite is not null)
            await _sqlite.DisposeAsync();
        if (_postgres is not null)
            await _postgres.DisposeAsync();
        _single?.Dispose();
    }
}
