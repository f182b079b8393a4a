using System.Data.Common;

namespace Flame.Storage;

/// <summary>
/// The queries and row readers both databases share. Parameters are <c>$1</c>, <c>$2</c>: positional in PostgreSQL,
/// and valid names in SQLite. The CASTs make PostgreSQL's smallint and SQLite's integer read the same way.
/// </summary>
internal static class StoredRows
{
    public const string SelectSession =
        "SELECT id, application, open, creation_time, completion_time, json FROM flame_sessions WHERE id = $1";

    /// <summary>A task with its input and output, from the row or from the payloads table (probed only when flagged).</summary>
    public const string SelectTasks = """
        SELECT t.task_id, CAST(t.state AS integer), t.attempts,
               CASE WHEN t.payloads & 1 <> 0 THEN (SELECT p.data FROM flame_task_payloads p
                    WHERE p.session_id = t.session_id AND p.task_id = t.task_id AND p.kind = 'i') ELSE t.input END,
               CASE WHEN t.payloads & 2 <> 0 THEN (SELECT p.data FROM flame_task_payloads p
                    WHERE p.session_id = t.session_id AND p.task_id = t.task_id AND p.kind = 'o') ELSE t.output END,
               t.message, t.creation_time, t.start_time, t.completion_time, t.history
        FROM flame_tasks t
        WHERE t.session_id = $1
        """;

    public const string SelectTasksAfter = SelectTasks + " AND t.task_id > $2 ORDER BY t.task_id";

    public const string SelectTask = SelectTasks + " AND t.task_id = $2";

    /// <summary>Task states 0 (Pending) to 4 (Cancelled).</summary>
    public const int TaskStates = 5;

    /// <summary>A page of sessions after a (creation_time, id) position, served by the index flame_sessions_listing.</summary>
    public static (string Sql, object[] Parameters) SessionPage(StoredSessionQuery query, string ordinalOrder)
    {
        var parameters = new List<object> { query.AfterCreationTime, query.AfterId };
        var sql = new System.Text.StringBuilder(
            $"SELECT id, application, open, creation_time, completion_time, json FROM flame_sessions WHERE (creation_time, id {ordinalOrder}) > ($1, $2)");
        if (query.Open is { } open)
        {
            parameters.Add(open);
            sql.Append($" AND open = ${parameters.Count}");
        }
        if (query.Application is { } application)
        {
            parameters.Add(application);
            sql.Append($" AND application = ${parameters.Count}");
        }
        parameters.Add(query.Max);
        sql.Append($" ORDER BY creation_time, id {ordinalOrder} LIMIT ${parameters.Count}");
        return (sql.ToString(), [.. parameters]);
    }

    public static StoredApplication ReadApplication(DbDataReader reader) =>
        new() { Name = reader.GetString(0), Json = reader.GetString(1) };

    public static StoredToken ReadToken(DbDataReader reader) =>
        new() { Name = reader.GetString(0), Json = reader.GetString(1) };

    public static StoredSession ReadSession(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Application = reader.GetString(1),
        Open = reader.GetBoolean(2),
        CreationTime = reader.GetInt64(3),
        CompletionTime = reader.IsDBNull(4) ? null : reader.GetInt64(4),
        Json = reader.GetString(5),
    };

    // GetFieldValue<byte[]>: an empty blob reads back as an empty array, distinct from NULL.
    public static StoredTask ReadTask(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        State = reader.GetInt32(1),
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
