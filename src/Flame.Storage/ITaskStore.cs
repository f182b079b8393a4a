namespace Flame.Storage;

/// <summary>
/// Where sessions, their tasks and applications survive a crash. Writes are durable when their task completes, and
/// are applied in the order they were called: the implementations queue them and commit whatever has queued up in one
/// transaction (group commit), so thousands of concurrent changes cost a few round trips, not thousands.
/// </summary>
/// <remarks>
/// The store knows nothing of grains or of the protocol: specs arrive as opaque JSON text, states as integers.
/// Implementations: <c>Postgres.PostgresTaskStore</c>, <c>Sqlite.SqliteTaskStore</c>,
/// <see cref="Memory.MemoryTaskStore"/>. All of them pass the same conformance suite.
/// </remarks>
public interface ITaskStore
{
    /// <summary>Creates or replaces an application (by name).</summary>
    Task SaveApplicationAsync(StoredApplication application, CancellationToken cancellationToken = default);

    /// <summary>Removes an application; nothing if it does not exist.</summary>
    Task DeleteApplicationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every application, by name.</summary>
    Task<IReadOnlyList<StoredApplication>> LoadApplicationsAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces an access token (by name). The store sees only its serialised form, which holds a hash, never the secret.</summary>
    Task SaveTokenAsync(StoredToken token, CancellationToken cancellationToken = default);

    /// <summary>Removes an access token; nothing if it does not exist.</summary>
    Task DeleteTokenAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every access token, by name.</summary>
    Task<IReadOnlyList<StoredToken>> LoadTokensAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a session's own row (not its tasks).</summary>
    Task SaveSessionAsync(StoredSession session, CancellationToken cancellationToken = default);

    /// <summary>Removes a session and all its tasks; nothing if it does not exist.</summary>
    Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>A session's row, or null.</summary>
    Task<StoredSession?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>The ids of the sessions stored, open ones only if <paramref name="openOnly"/>, in id order.</summary>
    Task<IReadOnlyList<string>> LoadSessionIdsAsync(bool openOnly, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <see cref="StoredSessionQuery.Max"/> sessions after the query's position, oldest first (by creation time,
    /// then id in ordinal order), with the counts of their tasks by state. Served by an index: a page costs the same
    /// whatever the number of sessions.
    /// </summary>
    Task<IReadOnlyList<StoredSessionSummary>> LoadSessionPageAsync(StoredSessionQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// The open sessions that have pending or running tasks, with those counts, and those that keep executors while idle
    /// (<c>spec.minInstances</c> above 0 in their JSON), in no set order: the work a restarted cluster must serve
    /// without waiting for a client. One pass over the task rows, never one query per session.
    /// </summary>
    Task<IReadOnlyList<StoredSessionWork>> LoadOpenSessionsWithWorkAsync(CancellationToken cancellationToken = default);

    /// <summary>The ids of the open sessions of <paramref name="owner"/> (the <c>spec.owner</c> of the session's JSON).</summary>
    Task<IReadOnlyList<string>> LoadOpenSessionIdsOfOwnerAsync(string owner, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="max"/> ids of sessions closed before <paramref name="closedBefore"/> (ms since the Unix epoch), oldest close first.</summary>
    Task<IReadOnlyList<string>> LoadClosedSessionIdsAsync(long closedBefore, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates or updates tasks of a session: one row per task. A task whose <see cref="StoredTask.Input"/> is given
    /// is written with it; an update without input leaves the stored input alone. When the same task appears several
    /// times in what is committed together, the last one wins (its input: the last one given).
    /// </summary>
    Task WriteTasksAsync(string sessionId, IReadOnlyList<StoredTask> tasks, CancellationToken cancellationToken = default);

    /// <summary>The tasks of a session with ids above <paramref name="afterId"/>, in id order, streamed (inputs and outputs included).</summary>
    IAsyncEnumerable<StoredTask> LoadTasksAsync(string sessionId, long afterId, CancellationToken cancellationToken = default);

    /// <summary>One task, or null.</summary>
    Task<StoredTask?> LoadTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default);
}

/// <summary>An application as stored.</summary>
public sealed record StoredApplication
{
    /// <summary>The name, unique.</summary>
    public required string Name { get; init; }

    /// <summary>The application (spec and state), serialised by its owner.</summary>
    public required string Json { get; init; }
}

/// <summary>An access token as stored (table <c>flame_tokens</c>).</summary>
public sealed record StoredToken
{
    /// <summary>The token's name, unique.</summary>
    public required string Name { get; init; }

    /// <summary>The token (role, node, hash of its secret), serialised by its owner.</summary>
    public required string Json { get; init; }
}

/// <summary>A session's own row.</summary>
public sealed record StoredSession
{
    /// <summary>The session id, unique.</summary>
    public required string Id { get; init; }

    /// <summary>Its application's name.</summary>
    public required string Application { get; init; }

    /// <summary>True while open (the index behind <see cref="ITaskStore.LoadSessionIdsAsync"/>).</summary>
    public required bool Open { get; init; }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public required long CreationTime { get; init; }

    /// <summary>Milliseconds since the Unix epoch, once closed.</summary>
    public long? CompletionTime { get; init; }

    /// <summary>Everything else (spec, application snapshot, events), serialised by its owner.</summary>
    public required string Json { get; init; }
}

/// <summary>One task's row. States are the integers of flame.v1 TaskState (0 Pending, 1 Running, 2 Succeed, 3 Failed, 4 Cancelled).</summary>
public sealed record StoredTask
{
    /// <summary>The task id within its session: 1, 2, …</summary>
    public required long Id { get; init; }

    /// <summary>The state.</summary>
    public required int State { get; init; }

    /// <summary>Attempts started so far.</summary>
    public int Attempts { get; init; }

    /// <summary>
    /// The input, when written with the task's creation; null in an update (the stored input stays). Loaded tasks carry
    /// their input (null if the task had none).
    /// </summary>
    public byte[]? Input { get; init; }

    /// <summary>The output, once finished.</summary>
    public byte[]? Output { get; init; }

    /// <summary>The failure message of a Failed task.</summary>
    public string? Message { get; init; }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public required long CreationTime { get; init; }

    /// <summary>When the last attempt started, 0 if never.</summary>
    public long StartTime { get; init; }

    /// <summary>When it finished, 0 if not.</summary>
    public long CompletionTime { get; init; }

    /// <summary>The explicit event list of a task whose life was unusual (a retry), serialised by its owner; usually null.</summary>
    public string? History { get; init; }
}

/// <summary>Which sessions <see cref="ITaskStore.LoadSessionPageAsync"/> returns.</summary>
public sealed record StoredSessionQuery
{
    /// <summary>The creation time of the last session of the previous page (0 for the first page).</summary>
    public long AfterCreationTime { get; init; }

    /// <summary>The id of the last session of the previous page ("" for the first page).</summary>
    public string AfterId { get; init; } = "";

    /// <summary>How many sessions at most.</summary>
    public required int Max { get; init; }

    /// <summary>Open sessions only (true), closed ones only (false), or both (null).</summary>
    public bool? Open { get; init; }

    /// <summary>Sessions of this application only; null for all.</summary>
    public string? Application { get; init; }
}

/// <summary>A session's row and the counts of its tasks by state.</summary>
public sealed record StoredSessionSummary
{
    /// <summary>The session's own row.</summary>
    public required StoredSession Session { get; init; }

    /// <summary>Task counts indexed by state (0 Pending … 4 Cancelled).</summary>
    public required IReadOnlyList<int> TaskCounts { get; init; }
}

/// <summary>An open session with work to run, from <see cref="ITaskStore.LoadOpenSessionsWithWorkAsync"/>.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Pending">Its pending tasks.</param>
/// <param name="Running">Its tasks that were running when the store was last written.</param>
public sealed record StoredSessionWork(string SessionId, int Pending, int Running);
