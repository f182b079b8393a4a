namespace Flame.Storage.GroupCommit;

internal enum WriteKind
{
    SaveApplication,
    DeleteApplication,
    SaveToken,
    DeleteToken,
    SaveSession,
    DeleteSession,
    WriteTasks,
}

/// <summary>One call waiting in the queue for the transaction that will carry it.</summary>
internal sealed class PendingWrite
{
    private PendingWrite(WriteKind kind, string key)
    {
        Kind = kind;
        Key = key;
    }

    public WriteKind Kind { get; }

    /// <summary>The application name, the token name or the session id.</summary>
    public string Key { get; }

    public StoredApplication? Application { get; private init; }

    public StoredToken? Token { get; private init; }

    public StoredSession? Session { get; private init; }

    public StoredTask[] Tasks { get; private init; } = [];

    /// <summary>Rows it adds to a batch, counted against <see cref="FlameTaskStoreOptions.MaxBatchTasks"/>.</summary>
    public int Rows => Math.Max(1, Tasks.Length);

    /// <summary>The bytes of inputs and outputs it carries, counted against <see cref="MaxBatchBytes"/>.</summary>
    public long Bytes { get; private init; }

    /// <summary>
    /// Inputs and outputs one batch carries at most (a single larger call is still committed whole): a batch's
    /// values are sent as one message, and PostgreSQL refuses messages over 1 GB.
    /// </summary>
    public const long MaxBatchBytes = 64 << 20;

    /// <summary>Completed once the batch has committed, or faulted with its exception.</summary>
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static PendingWrite SaveApplication(StoredApplication application) =>
        new(WriteKind.SaveApplication, application.Name) { Application = application };

    public static PendingWrite DeleteApplication(string name) => new(WriteKind.DeleteApplication, name);

    public static PendingWrite SaveToken(StoredToken token) => new(WriteKind.SaveToken, token.Name) { Token = token };

    public static PendingWrite DeleteToken(string name) => new(WriteKind.DeleteToken, name);

    public static PendingWrite SaveSession(StoredSession session) => new(WriteKind.SaveSession, session.Id) { Session = session };

    public static PendingWrite DeleteSession(string sessionId) => new(WriteKind.DeleteSession, sessionId);

    // Copied: the caller may reuse its list once the call returns, long before the batch is written.
    public static PendingWrite WriteTasks(string sessionId, IReadOnlyList<StoredTask> tasks) =>
        new(WriteKind.WriteTasks, sessionId) { Tasks = [.. tasks], Bytes = tasks.Sum(t => (long)(t.Input?.Length ?? 0) + (t.Output?.Length ?? 0)) };
}
