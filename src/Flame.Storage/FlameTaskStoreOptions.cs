namespace Flame.Storage;

/// <summary>Settings of the durable task stores (<c>Postgres.PostgresTaskStore</c>, <c>Sqlite.SqliteTaskStore</c>).</summary>
public sealed class FlameTaskStoreOptions
{
    /// <summary>
    /// Inputs and outputs longer than this many bytes are stored in <c>flame_task_payloads</c>, not in the task's row,
    /// so that the frequent small updates of a task (state, attempts, times) do not rewrite a large value. Default 2048.
    /// </summary>
    public int PayloadThreshold { get; init; } = 2048;

    /// <summary>
    /// How many task rows one transaction takes at most; what is queued beyond waits for the next one (a single call
    /// with more rows is still committed whole). Default 10,000.
    /// </summary>
    public int MaxBatchTasks { get; init; } = 10_000;

    /// <summary>
    /// PostgreSQL: how long a batch that failed with a transient error (the server unreachable or restarting) is
    /// retried before its callers get the exception. Default 30 seconds. Retrying is safe because a batch is a set of
    /// idempotent upserts and deletes, applied by one writer in order.
    /// </summary>
    public TimeSpan RetryWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// SQLite: <c>PRAGMA synchronous=FULL</c> (true) or <c>NORMAL</c> (false). In WAL mode both keep every committed
    /// batch through a process crash; FULL also through a power loss or an OS crash, at one fsync per commit (which
    /// group commit shares among all the writes of the batch). Default true.
    /// </summary>
    public bool SqliteFullSync { get; init; } = true;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(PayloadThreshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchTasks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryWindow, TimeSpan.Zero);
    }
}
