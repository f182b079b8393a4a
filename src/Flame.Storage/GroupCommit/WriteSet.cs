namespace Flame.Storage.GroupCommit;

/// <summary>
/// The net effect of a batch of writes, per key. Writes to different keys commute, and for one key the net effect
/// equals applying its writes in call order: a session delete erases whatever the batch did to that session (row and
/// tasks) before it, so what remains is "delete, then the later saves and task writes". Applying the deletes first,
/// then the upserts, therefore gives the same result as applying every call in order, and the upserts can be
/// set-based statements.
/// </summary>
internal sealed class WriteSet
{
    /// <summary>Application name → the last save, or null for a delete.</summary>
    public Dictionary<string, StoredApplication?> Applications { get; } = new(StringComparer.Ordinal);

    /// <summary>Token name → the last save, or null for a delete.</summary>
    public Dictionary<string, StoredToken?> Tokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Session id → what the batch does to it.</summary>
    public Dictionary<string, SessionWrites> Sessions { get; } = new(StringComparer.Ordinal);

    public int TaskCount { get; private set; }

    public void Add(PendingWrite write)
    {
        switch (write.Kind)
        {
            case WriteKind.SaveApplication:
                Applications[write.Key] = write.Application;
                break;
            case WriteKind.DeleteApplication:
                Applications[write.Key] = null;
                break;
            case WriteKind.SaveToken:
                Tokens[write.Key] = write.Token;
                break;
            case WriteKind.DeleteToken:
                Tokens[write.Key] = null;
                break;
            case WriteKind.SaveSession:
                Session(write.Key).Saved = write.Session;
                break;
            case WriteKind.DeleteSession:
                var session = Session(write.Key);
                TaskCount -= session.Tasks.Count;
                session.Deleted = true;
                session.Saved = null;
                session.Tasks.Clear();
                break;
            case WriteKind.WriteTasks:
                var tasks = Session(write.Key).Tasks;
                foreach (var task in write.Tasks)
                {
                    // Last wins, but an update without input keeps the input written earlier in the batch (the contract).
                    if (tasks.TryGetValue(task.Id, out var earlier))
                        tasks[task.Id] = task.Input is null && earlier.Input is not null ? task with { Input = earlier.Input } : task;
                    else
                    {
                        tasks.Add(task.Id, task);
                        TaskCount++;
                    }
                }
                break;
            default:
                throw new InvalidOperationException($"unknown write kind {write.Kind}");
        }
    }

    private SessionWrites Session(string id)
    {
        if (!Sessions.TryGetValue(id, out var session))
            Sessions.Add(id, session = new SessionWrites());
        return session;
    }

    public void Clear()
    {
        Applications.Clear();
        Tokens.Clear();
        Sessions.Clear();
        TaskCount = 0;
    }

    public IEnumerable<string> DeletedSessions => Sessions.Where(s => s.Value.Deleted).Select(s => s.Key);

    public IEnumerable<StoredSession> SavedSessions => Sessions.Values.Select(s => s.Saved).OfType<StoredSession>();

    /// <summary>
    /// The task rows to upsert, ordered by (session, task): the same lock order in every transaction, and neighbouring
    /// keys in the index.
    /// </summary>
    public IEnumerable<(string SessionId, StoredTask Task)> TasksInKeyOrder() =>
        from session in Sessions.OrderBy(s => s.Key, StringComparer.Ordinal)
        from task in session.Value.Tasks.Values.OrderBy(t => t.Id)
        select (session.Key, task);
}

/// <summary>What one batch does to one session.</summary>
internal sealed class SessionWrites
{
    /// <summary>Deleted (with all its stored tasks) before the rest is applied.</summary>
    public bool Deleted { get; set; }

    /// <summary>The session row to upsert, if any.</summary>
    public StoredSession? Saved { get; set; }

    /// <summary>Task id → the row to upsert.</summary>
    public Dictionary<long, StoredTask> Tasks { get; } = [];
}

/// <summary>How a task's input and output are stored: in the row, or in <c>flame_task_payloads</c>.</summary>
internal static class Payloads
{
    /// <summary>Bit of the row's <c>payloads</c> column: the input is in the payloads table (kind 'i').</summary>
    public const short Input = 1;

    /// <summary>Bit of the row's <c>payloads</c> column: the output is in the payloads table (kind 'o').</summary>
    public const short Output = 2;

    public static bool IsLarge(byte[]? data, int threshold) => data is not null && data.Length > threshold;
}
