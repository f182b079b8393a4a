using Flame.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Flame.Storage.Tests;

/// <summary>The contract on a database file of its own in a temporary directory (created by the store).</summary>
public sealed class SqliteTaskStoreTests : TaskStoreContractTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("flame-sqlite-").FullName;

    private string DatabasePath => Path.Combine(_directory, "data", "flame.db");

    protected override Task<ITaskStore> OpenAsync() => Task.FromResult<ITaskStore>(new SqliteTaskStore(DatabasePath));

    protected override async Task<long?> CountRowsAsync(string table)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Open_CreatesTheSchemaOnce_InWalMode_AndRecordsVersions2To4()
    {
        await ReopenAsync();

        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(version) FROM (SELECT version FROM flame_schema_migrations ORDER BY version)";
        Assert.Equal("2,3,4", await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
    }
}
