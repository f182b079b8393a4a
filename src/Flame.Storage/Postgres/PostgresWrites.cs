using Flame.Storage.GroupCommit;
using Npgsql;
using NpgsqlTypes;

namespace Flame.Storage.Postgres;

/// <summary>
/// The statements of one batch: deletes first, then set-based upserts (see <see cref="WriteSet"/> for why that order
/// equals call order). Each statement takes whole columns as arrays and <c>unnest</c>s them, so a batch of thousands
/// of task changes is a handful of statements in one round trip.
/// </summary>
internal static class PostgresWrites
{
    private const string UpsertTasks = """
        INSERT INTO flame_tasks (session_id, task_id, state, attempts, input, output, message,
                                 creation_time, start_time, completion_time, history, payloads)
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::smallint[], $4::integer[], $5::bytea[], $6::bytea[], $7::text[],
                             $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::smallint[])
        ON CONFLICT (session_id, task_id) DO UPDATE SET
            state = excluded.state, attempts = excluded.attempts, output = excluded.output, message = excluded.message,
            creation_time = excluded.creation_time, start_time = excluded.start_time,
            completion_time = excluded.completion_time, history = excluded.history,
        """;

    // Rows written with an input replace the stored one; rows without keep it (and its payload bit).
    private const string UpsertTasksWithInput = UpsertTasks + " input = excluded.input, payloads = excluded.payloads";
    private const string UpsertTasksKeepingInput = UpsertTasks + " payloads = (flame_tasks.payloads & 1) | excluded.payloads";

    public static void Add(NpgsqlBatch batch, WriteSet writes, int payloadThreshold)
    {
        var deleted = writes.DeletedSessions.ToArray();
        if (deleted.Length > 0)
        {
            Add(batch, "DELETE FROM flame_task_payloads WHERE session_id = ANY($1::text[])", deleted);
            Add(batch, "DELETE FROM flame_tasks WHERE session_id = ANY($1::text[])", deleted);
            Add(batch, "DELETE FROM flame_sessions WHERE id = ANY($1::text[])", deleted);
        }

        var sessions = writes.SavedSessions.ToArray();
        if (sessions.Length > 0)
        {
            Add(batch, """
                INSERT INTO flame_sessions (id, application, open, creation_time, completion_time, json)
                SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::bigint[], $5::bigint[], $6::text[])
                ON CONFLICT (id) DO UPDATE SET application = excluded.application, open = excluded.open,
                    creation_time = excluded.creation_time, completion_time = excluded.completion_time, json = excluded.json
                """,
                sessions.Select(s => s.Id).ToArray(), sessions.Select(s => s.Application).ToArray(),
                sessions.Select(s => s.Open).ToArray(), sessions.Select(s => s.CreationTime).ToArray(),
                sessions.Select(s => s.CompletionTime).ToArray(), sessions.Select(s => s.Json).ToArray());
        }

        AddNamedRows(batch, "flame_applications", writes.Applications.ToDictionary(a => a.Key, a => a.Value?.Json));

        AddNamedRows(batch, "flame_tokens", writes.Tokens.ToDictionary(t => t.Key, t => t.Value?.Json));

        if (writes.TaskCount > 0)
            AddTasks(batch, [.. writes.TasksInKeyOrder()], payloadThreshold);
    }

    /// <summary>The deletes (null json) and upserts of a (name, json) table: applications, tokens.</summary>
    private static void AddNamedRows(NpgsqlBatch batch, string table, Dictionary<string, string?> rows)
    {
        var removed = rows.Where(r => r.Value is null).Select(r => r.Key).ToArray();
        if (removed.Length > 0)
            Add(batch, $"DELETE FROM {table} WHERE name = ANY($1::text[])", removed);
        var saved = rows.Where(r => r.Value is not null).ToArray();
        if (saved.Length > 0)
        {
            Add(batch, $"""
                INSERT INTO {table} (name, json) SELECT * FROM unnest($1::text[], $2::text[])
                ON CONFLICT (name) DO UPDATE SET json = excluded.json
                """,
                saved.Select(r => r.Key).ToArray(), saved.Select(r => r.Value!).ToArray());
        }
    }

    private static void AddTasks(NpgsqlBatch batch, (string SessionId, StoredTask Task)[] tasks, int payloadThreshold)
    {
        // Payload rows that this write replaces: the output always, the input when one is given. Those still large are
        // inserted again below; the others must not linger behind a cleared flag.
        Add(batch, """
            DELETE FROM flame_task_payloads p
            USING unnest($1::text[], $2::bigint[], $3::boolean[]) AS n(session_id, task_id, has_input)
            WHERE p.session_id = n.session_id AND p.task_id = n.task_id AND (p.kind = 'o' OR n.has_input)
            """,
            tasks.Select(t => t.SessionId).ToArray(), tasks.Select(t => t.Task.Id).ToArray(),
            tasks.Select(t => t.Task.Input is not null).ToArray());

        AddUpsert(batch, UpsertTasksWithInput, tasks.Where(t => t.Task.Input is not null).ToArray(), payloadThreshold);
        AddUpsert(batch, UpsertTasksKeepingInput, tasks.Where(t => t.Task.Input is null).ToArray(), payloadThreshold);

        var payloads = new List<(string SessionId, long TaskId, string Kind, byte[] Data)>();
        foreach (var (sessionId, task) in tasks)
        {
            if (Payloads.IsLarge(task.Input, payloadThreshold))
                payloads.Add((sessionId, task.Id, "i", task.Input!));
            if (Payloads.IsLarge(task.Output, payloadThreshold))
                payloads.Add((sessionId, task.Id, "o", task.Output!));
        }
        if (payloads.Count > 0)
        {
            Add(batch, """
                INSERT INTO flame_task_payloads (session_id, task_id, kind, data)
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[])
                ON CONFLICT (session_id, task_id, kind) DO UPDATE SET data = excluded.data
                """,
                payloads.Select(p => p.SessionId).ToArray(), payloads.Select(p => p.TaskId).ToArray(),
                payloads.Select(p => p.Kind).ToArray(), payloads.Select(p => p.Data).ToArray());
        }
    }

    private static void AddUpsert(NpgsqlBatch batch, string sql, (string SessionId, StoredTask Task)[] tasks, int payloadThreshold)
    {
        if (tasks.Length == 0)
            return;
        var command = new NpgsqlBatchCommand(sql);
        var p = command.Parameters;
        p.Add(Array(tasks.Select(t => t.SessionId).ToArray()));
        p.Add(Array(tasks.Select(t => t.Task.Id).ToArray()));
        p.Add(Array(tasks.Select(t => checked((short)t.Task.State)).ToArray()));
        p.Add(Array(tasks.Select(t => t.Task.Attempts).ToArray()));
        p.Add(Bytes(tasks.Select(t => Payloads.IsLarge(t.Task.Input, payloadThreshold) ? null : t.Task.Input)));
        p.Add(Bytes(tasks.Select(t => Payloads.IsLarge(t.Task.Output, payloadThreshold) ? null : t.Task.Output)));
        p.Add(Array(tasks.Select(t => t.Task.Message).ToArray()));
        p.Add(Array(tasks.Select(t => t.Task.CreationTime).ToArray()));
        p.Add(Array(tasks.Select(t => t.Task.StartTime).ToArray()));
        p.Add(Array(tasks.Select(t => t.Task.CompletionTime).ToArray()));
        p.Add(Array(tasks.Select(t => t.Task.History).ToArray()));
        p.Add(Array(tasks.Select(t => (short)(
            (Payloads.IsLarge(t.Task.Input, payloadThreshold) ? Payloads.Input : 0) |
            (Payloads.IsLarge(t.Task.Output, payloadThreshold) ? Payloads.Output : 0))).ToArray()));
        batch.BatchCommands.Add(command);
    }

    private static void Add(NpgsqlBatch batch, string sql, params Array[] arrays)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var array in arrays)
            command.Parameters.Add(array is byte[][] bytes ? Bytes(bytes) : new NpgsqlParameter { Value = array });
        batch.BatchCommands.Add(command);
    }

    private static NpgsqlParameter<T[]> Array<T>(T[] values) => new() { TypedValue = values };

    private static NpgsqlParameter Bytes(IEnumerable<byte[]?> values) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea };
}
