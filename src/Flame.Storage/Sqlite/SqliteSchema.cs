using Microsoft.Data.Sqlite;

namespace Flame.Storage.Sqlite;

/// <summary>
/// The SQLite form of <c>deploy/postgres/002_flame_store.sql</c> and <c>003_flame_tokens.sql</c> and <c>004_flame_sessions_listing.sql</c>, created by the store itself on open (idempotent).
/// Same tables and columns; the reasons for the payloads table are stronger here, since SQLite rewrites a whole row on
/// every update, blob included.
/// </summary>
internal static class SqliteSchema
{
    public const int Version = 4;

    private const string Script = """
        CREATE TABLE IF NOT EXISTS flame_schema_migrations
        (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );

        CREATE TABLE IF NOT EXISTS flame_applications
        (
            name TEXT NOT NULL PRIMARY KEY,
            json TEXT NOT NULL
        );

        CREATE TABLE IF NOT EXISTS flame_sessions
        (
            id              TEXT    NOT NULL PRIMARY KEY,
            application     TEXT    NOT NULL,
            open            INTEGER NOT NULL,
            creation_time   INTEGER NOT NULL,
            completion_time INTEGER NULL,
            json            TEXT    NOT NULL
        );

        CREATE INDEX IF NOT EXISTS flame_sessions_open ON flame_sessions (id) WHERE open = 1;

        -- Blobs last: SQLite reads a row's columns in order, and a long value spills into overflow pages.
        CREATE TABLE IF NOT EXISTS flame_tasks
        (
            session_id      TEXT    NOT NULL,
            task_id         INTEGER NOT NULL,
            state           INTEGER NOT NULL,
            attempts        INTEGER NOT NULL,
            creation_time   INTEGER NOT NULL,
            start_time      INTEGER NOT NULL,
            completion_time INTEGER NOT NULL,
            payloads        INTEGER NOT NULL DEFAULT 0,
            message         TEXT    NULL,
            history         TEXT    NULL,
            input           BLOB    NULL,
            output          BLOB    NULL,
            PRIMARY KEY (session_id, task_id)
        );

        CREATE TABLE IF NOT EXISTS flame_task_payloads
        (
            session_id TEXT    NOT NULL,
            task_id    INTEGER NOT NULL,
            kind       TEXT    NOT NULL CHECK (kind IN ('i', 'o')),
            data       BLOB    NOT NULL,
            PRIMARY KEY (session_id, task_id, kind)
        );

        INSERT INTO flame_schema_migrations (version, name) VALUES (2, '002_flame_store')
        ON CONFLICT (version) DO NOTHING;

        CREATE TABLE IF NOT EXISTS flame_tokens
        (
            name TEXT NOT NULL PRIMARY KEY,
            json TEXT NOT NULL
        );

        INSERT INTO flame_schema_migrations (version, name) VALUES (3, '003_flame_tokens')
        ON CONFLICT (version) DO NOTHING;

        CREATE INDEX IF NOT EXISTS flame_sessions_listing ON flame_sessions (creation_time, id);

        CREATE INDEX IF NOT EXISTS flame_sessions_closed ON flame_sessions (completion_time) WHERE open = 0;

        INSERT INTO flame_schema_migrations (version, name) VALUES (4, '004_flame_sessions_listing')
        ON CONFLICT (version) DO NOTHING;
        """;

    /// <summary>Creates what is missing, in one transaction (an immediate one: two processes opening a new file wait in turn).</summary>
    public static void Apply(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Script;
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}
