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

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact, System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Open_CreatesItsDirectoryForItsOwnerOnly_AndTheDatabaseWalAndShmFilesOwnerReadWriteOnly()
    {
        Assert.Equal(OwnerReadWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(DatabasePath)!));
        foreach (var file in new[] { DatabasePath, DatabasePath + "-wal", DatabasePath + "-shm" })
            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(file));
    }

    [Fact, System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Open_MakesPrivate_TheFilesAnOlderVersionLeftReadableByAll()
    {
        await Store.SaveSessionAsync(new StoredSession { Id = "s", Application = "a", Open = true, CreationTime = 1, Json = "{}" });
        if (Store is IAsyncDisposable disposable)
            await disposable.DisposeAsync();
        const UnixFileMode readableByAll = OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(DatabasePath, readableByAll);

        await ReopenAsync();

        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(DatabasePath));
        Assert.NotNull(await Store.LoadSessionAsync("s"));
    }
}
