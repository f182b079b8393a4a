using Flame.Storage.GroupCommit;
using Microsoft.Data.Sqlite;

namespace Flame.Storage.Sqlite;

/// <summary>
/// Applies batches on the writer connection: the net effect of each (see <see cref="WriteSet"/>), deletes first, in
/// one immediate transaction, with statements prepared once and reused for every row and every batch.
/// </summary>
internal sealed class SqliteWrites : IDisposable
{
    private const string UpsertTask = """
        INSERT INTO flame_tasks (session_id, task_id, state, attempts, input, output, message,
                                 creation_time, start_time, completion_time, history, payloads)
        VALUES ($session, $task, $state, $attempts, $input, $output, $message, $creation, $start, $completion, $history, $payloads)
        ON CONFLICT (session_id, task_id) DO UPDATE SET
            state = excluded.state, attempts = excluded.attempts, output = excluded.output, message = excluded.message,
            creation_time = excluded.creation_time, start_time = excluded.start_time,
            completion_time = excluded.completion_time, history = excluded.history,
        """;

    private readonly SqliteConnection _connection;
    private readonly int _payloadThreshold;
    private readonly List<SqliteCommand> _commands = [];
    private readonly SqliteCommand _deleteSessionPayloads, _deleteSessionTasks, _deleteSession, _upsertSession;
    private readonly SqliteCommand _deleteApplication, _upsertApplication, _deleteToken, _upsertToken;
    private readonly SqliteCommand _deleteTaskPayloads, _upsertTaskWithInput, _upsertTaskKeepingInput, _upsertPayload;

    public SqliteWrites(SqliteConnection connection, int payloadThreshold)
    {
        _connection = connection;
        _payloadThreshold = payloadThreshold;
        _deleteSessionPayloads = Prepare("DELETE FROM flame_task_payloads WHERE session_id = $id", "$id");
        _deleteSessionTasks = Prepare("DELETE FROM flame_tasks WHERE session_id = $id", "$id");
        _deleteSession = Prepare("DELETE FROM flame_sessions WHERE id = $id", "$id");
        _upsertSession = Prepare("""
            INSERT INTO flame_sessions (id, application, open, creation_time, completion_time, json)
            VALUES ($id, $application, $open, $creation, $completion, $json)
            ON CONFLICT (id) DO UPDATE SET application = excluded.application, open = excluded.open,
                creation_time = excluded.creation_time, completion_time = excluded.completion_time, json = excluded.json
            """, "$id", "$application", "$open", "$creation", "$completion", "$json");
        _deleteApplication = Prepare("DELETE FROM flame_applications WHERE name = $name", "$name");
        _upsertApplication = Prepare(
            "INSERT INTO flame_applications (name, json) VALUES ($name, $json) ON CONFLICT (name) DO UPDATE SET json = excluded.json",
            "$name", "$json");
        _deleteToken = Prepare("DELETE FROM flame_tokens WHERE name = $name", "$name");
        _upsertToken = Prepare(
            "INSERT INTO flame_tokens (name, json) VALUES ($name, $json) ON CONFLICT (name) DO UPDATE SET json = excluded.json",
            "$name", "$json");
        // The payload rows this write replaces: the output always, the input when one is given (see PostgresWrites).
        _deleteTaskPayloads = Prepare(
            "DELETE FROM flame_task_payloads WHERE session_id = $session AND task_id = $task AND (kind = 'o' OR $input)",
            "$session", "$task", "$input");
        string[] task = ["$session", "$task", "$state", "$attempts", "$input", "$output", "$message", "$creation", "$start", "$completion", "$history", "$payloads"];
        _upsertTaskWithInput = Prepare(UpsertTask + " input = excluded.input, payloads = excluded.payloads", task);
        _upsertTaskKeepingInput = Prepare(UpsertTask + " payloads = (flame_tasks.payloads & 1) | excluded.payloads", task);
        _upsertPayload = Prepare("""
            INSERT INTO flame_task_payloads (session_id, task_id, kind, data) VALUES ($session, $task, $kind, $data)
            ON CONFLICT (session_id, task_id, kind) DO UPDATE SET data = excluded.data
            """, "$session", "$task", "$kind", "$data");
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        _commands.Add(command);
        return command;
    }

    public void Apply(WriteSet batch)
    {
        using var transaction = _connection.BeginTransaction(deferred: false);
        foreach (var command in _commands)
            command.Transaction = transaction;

        foreach (var id in batch.DeletedSessions)
        {
            Run(_deleteSessionPayloads, id);
            Run(_deleteSessionTasks, id);
            Run(_deleteSession, id);
        }
        foreach (var s in batch.SavedSessions)
            Run(_upsertSession, s.Id, s.Application, s.Open ? 1 : 0, s.CreationTime, s.CompletionTime, s.Json);
        foreach (var (name, application) in batch.Applications)
        {
            if (application is null)
                Run(_deleteApplication, name);
            else
                Run(_upsertApplication, name, application.Json);
        }
        foreach (var (name, token) in batch.Tokens)
        {
            if (token is null)
                Run(_deleteToken, name);
            else
                Run(_upsertToken, name, token.Json);
        }
        foreach (var (sessionId, task) in batch.TasksInKeyOrder())
            WriteTask(sessionId, task);

        transaction.Commit();
    }

    private void WriteTask(string sessionId, StoredTask task)
    {
        var largeInput = Payloads.IsLarge(task.Input, _payloadThreshold);
        var largeOutput = Payloads.IsLarge(task.Output, _payloadThreshold);
        Run(_deleteTaskPayloads, sessionId, task.Id, task.Input is not null);
        Run(task.Input is null ? _upsertTaskKeepingInput : _upsertTaskWithInput,
            sessionId, task.Id, task.State, task.Attempts, largeInput ? null : task.Input, largeOutput ? null : task.Output,
            task.Message, task.CreationTime, task.StartTime, task.CompletionTime, task.History,
            (largeInput ? Payloads.Input : 0) | (largeOutput ? Payloads.Output : 0));
        if (largeInput)
            Run(_upsertPayload, sessionId, task.Id, "i", task.Input);
        if (largeOutput)
            Run(_upsertPayload, sessionId, task.Id, "o", task.Output);
    }

    private static void Run(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in _commands)
            command.Dispose();
    }
}
