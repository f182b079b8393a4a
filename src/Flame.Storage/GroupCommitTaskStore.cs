using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Flame.Storage.GroupCommit;
using Microsoft.Extensions.Logging;

namespace Flame.Storage;

/// <summary>
/// The write side shared by the durable stores: every write call is queued, one background loop takes whatever has
/// queued up (at most <see cref="FlameTaskStoreOptions.MaxBatchTasks"/> task rows), applies its net effect in one
/// transaction, commits, and only then completes the calls of the batch (or faults them all with the exception).
/// Disposing flushes what is queued, then stops.
/// </summary>
public abstract partial class GroupCommitTaskStore : ITaskStore, IAsyncDisposable
{
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly ILogger _logger;
    private Task? _writer;
    private long _commits;
    // When a batch last failed for lack of space (Stopwatch ticks; 0: not since the last commit), and with what.
    private long _fullAt;
    private TaskStoreFullException? _full;
    private int _disposed;

    private protected GroupCommitTaskStore(FlameTaskStoreOptions? options, ILogger logger)
    {
        Options = options ?? new FlameTaskStoreOptions();
        Options.Validate();
        _logger = logger;
    }

    private protected FlameTaskStoreOptions Options { get; }

    /// <summary>Transactions committed by the writer so far (for tests and benchmarks).</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <summary>Starts the writer loop; the derived constructor calls it once it is ready to apply batches.</summary>
    private protected void StartWriter() => _writer = Task.Run(WriteLoopAsync);

    /// <summary>Applies a batch's net effect in one transaction and commits it; throws if it did not commit.</summary>
    private protected abstract Task ApplyAsync(WriteSet batch);

    /// <summary>
    /// How long a failure for lack of space counts in <see cref="Full"/> without another one: 3 s. Writers whose
    /// changes failed try again every second or so and renew it; once nobody tries, the next write finds out anew.
    /// </summary>
    public static readonly TimeSpan FullFor = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The error of the last batch, if it failed because the disk is full, no batch has committed since and it is
    /// less than <see cref="FullFor"/> old; otherwise null. New work (tasks, sessions) is refused while it is set,
    /// so that what is accepted can still be written.
    /// </summary>
    public TaskStoreFullException? Full
    {
        get
        {
            var at = Interlocked.Read(ref _fullAt);
            return at != 0 && Stopwatch.GetElapsedTime(at) < FullFor ? Volatile.Read(ref _full) : null;
        }
    }

    /// <summary>Whether <paramref name="exception"/> says the disk (or the database's quota) is full.</summary>
    private protected virtual bool IsFull(Exception exception) => exception is IOException { HResult: DiskFullHResult };

    // ENOSPC as .NET reports it on Unix (HResult of an IOException for errno 28).
    private const int DiskFullHResult = 28;

    /// <summary>Whether a failed batch may be retried (within <see cref="FlameTaskStoreOptions.RetryWindow"/>).</summary>
    private protected virtual bool IsTransient(Exception exception) => false;

    /// <summary>Called after a transient failure, before the retry (e.g. to drop pooled connections to a dead server).</summary>
    private protected virtual void OnTransientFailure()
    {
    }

    /// <summary>Releases the store's resources once the writer has stopped.</summary>
    private protected abstract ValueTask DisposeResourcesAsync();

    /// <inheritdoc />
    public Task SaveApplicationAsync(StoredApplication application, CancellationToken cancellationToken = default) =>
        EnqueueAsync(PendingWrite.SaveApplication(application), cancellationToken);

    /// <inheritdoc />
    public Task DeleteApplicationAsync(string name, CancellationToken cancellationToken = default) =>
        EnqueueAsync(PendingWrite.DeleteApplication(name), cancellationToken);

    /// <inheritdoc />
    public Task SaveTokenAsync(StoredToken token, CancellationToken cancellationToken = default) =>
        EnqueueAsync(PendingWrite.SaveToken(token), cancellationToken);

    /// <inheritdoc />
    public Task DeleteTokenAsync(string name, CancellationToken cancellationToken = default) =>
        EnqueueAsync(PendingWrite.DeleteToken(name), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredToken>> LoadTokensAsync(CancellationToken cancellationToken = default) =>
        await ListAsync($"SELECT name, json FROM flame_tokens ORDER BY name {OrdinalOrder}", [], StoredRows.ReadToken, cancellationToken)
            .ConfigureAwait(false);

    /// <inheritdoc />
    public Task SaveSessionAsync(StoredSession session, CancellationToken cancellationToken = default) =>
        EnqueueAsync(PendingWrite.SaveSession(session), cancellationToken);

    /// <inheritdoc />
    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        EnqueueAsync(PendingWrite.DeleteSession(sessionId), cancellationToken);

    /// <inheritdoc />
    public Task WriteTasksAsync(string sessionId, IReadOnlyList<StoredTask> tasks, CancellationToken cancellationToken = default) =>
        tasks.Count == 0 ? Task.CompletedTask : EnqueueAsync(PendingWrite.WriteTasks(sessionId, tasks), cancellationToken);

    /// <summary>
    /// Runs a query on a connection of its own; disposing the reader releases the connection. Parameters are
    /// <c>$1</c>, <c>$2</c>, … in the order given.
    /// </summary>
    private protected abstract Task<DbDataReader> QueryAsync(string sql, object[] parameters, CancellationToken cancellationToken);

    /// <summary>The SQL that makes an ORDER BY on text ordinal, as the contract's "in id order" means.</summary>
    private protected abstract string OrdinalOrder { get; }

    /// <summary>The condition selecting open sessions, as the partial index on them is declared.</summary>
    private protected abstract string OpenSessions { get; }

    /// <summary>The condition selecting closed sessions, as the partial index on them is declared.</summary>
    private protected abstract string ClosedSessions { get; }

    /// <summary>The SQL expression of a text field of <c>spec</c> in a session row's JSON column (null when absent).</summary>
    private protected abstract string SpecText(string field);

    /// <summary>The SQL expression of a number field of <c>spec</c> in a session row's JSON column (null when absent).</summary>
    private protected abstract string SpecNumber(string field);

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredApplication>> LoadApplicationsAsync(CancellationToken cancellationToken = default) =>
        await ListAsync($"SELECT name, json FROM flame_applications ORDER BY name {OrdinalOrder}", [], StoredRows.ReadApplication, cancellationToken)
            .ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<StoredSession?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        (await ListAsync(StoredRows.SelectSession, [sessionId], StoredRows.ReadSession, cancellationToken).ConfigureAwait(false))
            .SingleOrDefault();

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> LoadSessionIdsAsync(bool openOnly, CancellationToken cancellationToken = default) =>
        await ListAsync(
            $"SELECT id FROM flame_sessions{(openOnly ? " WHERE " + OpenSessions : "")} ORDER BY id {OrdinalOrder}", [],
            reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredSessionSummary>> LoadSessionPageAsync(StoredSessionQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Max, 1);
        var (sql, parameters) = StoredRows.SessionPage(query, OrdinalOrder);
        var sessions = await ListAsync(sql, parameters, StoredRows.ReadSession, cancellationToken).ConfigureAwait(false);
        if (sessions.Count == 0)
            return [];
        var counts = sessions.ToDictionary(s => s.Id, _ => new int[StoredRows.TaskStates], StringComparer.Ordinal);
        var ids = sessions.Select(s => (object)s.Id).ToArray();
        var countSql = "SELECT session_id, CAST(state AS integer), count(*) FROM flame_tasks WHERE session_id IN ("
                       + string.Join(", ", ids.Select((_, i) => $"${i + 1}")) + ") GROUP BY session_id, state";
        foreach (var (id, state, count) in await ListAsync(countSql, ids, r => (r.GetString(0), r.GetInt32(1), r.GetInt64(2)), cancellationToken)
                     .ConfigureAwait(false))
            if (state is >= 0 and < StoredRows.TaskStates)
                counts[id][state] = (int)count;
        return [.. sessions.Select(s => new StoredSessionSummary { Session = s, TaskCounts = counts[s.Id] })];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredSessionWork>> LoadOpenSessionsWithWorkAsync(CancellationToken cancellationToken = default)
    {
        var rows = await ListAsync(
            "SELECT t.session_id, CAST(t.state AS integer), count(*) FROM flame_tasks t JOIN flame_sessions s ON s.id = t.session_id"
            + $" WHERE s.{OpenSessions} AND t.state IN (0, 1) GROUP BY t.session_id, t.state", [],
            r => (Id: r.GetString(0), State: r.GetInt32(1), Count: (int)r.GetInt64(2)), cancellationToken).ConfigureAwait(false);
        var keeping = await ListAsync($"SELECT id FROM flame_sessions WHERE {OpenSessions} AND {SpecNumber("minInstances")} > 0", [],
            r => (Id: r.GetString(0), State: 0, Count: 0), cancellationToken).ConfigureAwait(false);
        return [.. rows.Concat(keeping).GroupBy(r => r.Id, StringComparer.Ordinal).Select(g =>
            new StoredSessionWork(g.Key, g.Where(r => r.State == 0).Sum(r => r.Count), g.Where(r => r.State == 1).Sum(r => r.Count)))];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> LoadOpenSessionIdsOfOwnerAsync(string owner, CancellationToken cancellationToken = default) =>
        await ListAsync($"SELECT id FROM flame_sessions WHERE {OpenSessions} AND {SpecText("owner")} = $1", [owner],
            reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> LoadClosedSessionIdsAsync(long closedBefore, int max, CancellationToken cancellationToken = default) =>
        await ListAsync(
            $"SELECT id FROM flame_sessions WHERE {ClosedSessions} AND completion_time < $1 ORDER BY completion_time LIMIT $2",
            [closedBefore, max], reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredTask> LoadTasksAsync(string sessionId, long afterId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Rows are read as they arrive: a session of millions of tasks is never held in memory. A connection lost
        // half-way (the server restarted) resumes after the last task read, so nothing is sent twice or skipped.
        var retry = new TransientRetry(this);
        while (true)
        {
            var reader = await OpenReaderAsync(StoredRows.SelectTasksAfter, [sessionId, afterId], retry, cancellationToken).ConfigureAwait(false);
            TimeSpan? again = null;
            await using (reader.ConfigureAwait(false))
            {
                while (again is null)
                {
                    bool read;
                    try
                    {
                        read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (retry.ShouldRetry(ex, out var delay))
                    {
                        again = delay;
                        break;
                    }
                    if (!read)
                        yield break;
                    var task = StoredRows.ReadTask(reader);
                    afterId = task.Id;
                    retry.Succeeded();
                    yield return task;
                }
            }
            await Task.Delay(again.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<StoredTask?> LoadTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default) =>
        (await ListAsync(StoredRows.SelectTask, [sessionId, taskId], StoredRows.ReadTask, cancellationToken).ConfigureAwait(false))
            .SingleOrDefault();

    /// <summary>A query read whole, tried again from the start after a transient failure (a read has no side effect).</summary>
    private async Task<List<T>> ListAsync<T>(string sql, object[] parameters, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var retry = new TransientRetry(this);
        while (true)
        {
            var reader = await OpenReaderAsync(sql, parameters, retry, cancellationToken).ConfigureAwait(false);
            TimeSpan delay;
            await using (reader.ConfigureAwait(false))
            {
                try
                {
                    var rows = new List<T>();
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        rows.Add(read(reader));
                    return rows;
                }
                catch (Exception ex) when (retry.ShouldRetry(ex, out delay))
                {
                }
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs a query, again after a transient failure (an idle pooled connection to a server that has restarted fails
    /// on first use) until <see cref="FlameTaskStoreOptions.RetryWindow"/> has passed.
    /// </summary>
    private async Task<DbDataReader> OpenReaderAsync(string sql, object[] parameters, TransientRetry retry, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan delay;
            try
            {
                return await QueryAsync(sql, parameters, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (retry.ShouldRetry(ex, out delay))
            {
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Cancelling a call stops waiting for it, not the write: once queued, it is committed with its batch (or fails
    /// with it) like any other.
    /// </summary>
    private Task EnqueueAsync(PendingWrite write, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);
        if (!_queue.Writer.TryWrite(write))
            throw new ObjectDisposedException(GetType().Name);
        return cancellationToken.CanBeCanceled ? write.Done.Task.WaitAsync(cancellationToken) : write.Done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new WriteSet();
        var writes = new List<PendingWrite>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var rows = 0;
            var bytes = 0L;
            // The first write is always taken, however large; the rest only while the batch has room.
            while (reader.TryPeek(out var next)
                   && (writes.Count == 0 || (rows + next.Rows <= Options.MaxBatchTasks && bytes + next.Bytes <= PendingWrite.MaxBatchBytes))
                   && reader.TryRead(out next))
            {
                writes.Add(next);
                batch.Add(next);
                rows += next.Rows;
                bytes += next.Bytes;
            }
            try
            {
                var started = Stopwatch.GetTimestamp();
                await ApplyWithRetryAsync(batch).ConfigureAwait(false);
                Diagnostics.StoreMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                Diagnostics.StoreMetrics.CommitBatchSize.Record(rows);
                Interlocked.Increment(ref _commits);
                Interlocked.Exchange(ref _fullAt, 0);
                foreach (var write in writes)
                    write.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                // The loop must survive anything: the callers of this batch get the error, later batches try again.
                var error = ex;
                if (IsFull(ex))
                {
                    var full = new TaskStoreFullException(ex);
                    Volatile.Write(ref _full, full);
                    Interlocked.Exchange(ref _fullAt, Stopwatch.GetTimestamp());
                    error = full;
                }
                LogBatchFailed(error, writes.Count, rows);
                foreach (var write in writes)
                    write.Done.TrySetException(error);
            }
            writes.Clear();
            batch.Clear();
        }
    }

    private async Task ApplyWithRetryAsync(WriteSet batch)
    {
        var retry = new TransientRetry(this);
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan delay;
            try
            {
                await ApplyAsync(batch).ConfigureAwait(false);
                if (retry.FailingFor is { } failingFor)
                    LogBatchRecovered(attempt, failingFor.TotalSeconds);
                return;
            }
            catch (Exception ex) when (retry.ShouldRetry(ex, out delay))
            {
                LogBatchRetrying(ex, attempt, delay.TotalMilliseconds);
            }
            await Task.Delay(delay).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The retry policy of reads and writes alike: a transient failure is tried again after a back-off from 50 ms
    /// doubling to 1 s, until failures have lasted <see cref="FlameTaskStoreOptions.RetryWindow"/>; each one first
    /// drops the pooled connections (<see cref="OnTransientFailure"/>).
    /// </summary>
    private sealed class TransientRetry(GroupCommitTaskStore store)
    {
        private static readonly TimeSpan First = TimeSpan.FromMilliseconds(50);
        private static readonly TimeSpan Max = TimeSpan.FromSeconds(1);
        private long _failingSince;
        private TimeSpan _delay;

        /// <summary>How long the failures have lasted, or null while there are none.</summary>
        public TimeSpan? FailingFor => _failingSince == 0 ? null : Stopwatch.GetElapsedTime(_failingSince);

        /// <summary>Whether to try again after <paramref name="exception"/>, and after how long.</summary>
        public bool ShouldRetry(Exception exception, out TimeSpan delay)
        {
            delay = default;
            if (!store.IsTransient(exception))
                return false;
            if (_failingSince == 0)
            {
                _failingSince = Stopwatch.GetTimestamp();
                _delay = First;
            }
            if (Stopwatch.GetElapsedTime(_failingSince) + _delay > store.Options.RetryWindow)
                return false;
            delay = _delay;
            _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, Max.Ticks));
            store.OnTransientFailure();
            return true;
        }

        /// <summary>Progress was made: the next failure starts a window of its own.</summary>
        public void Succeeded() => _failingSince = 0;
    }

    /// <summary>Commits what is queued, then stops the writer and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _queue.Writer.TryComplete();
        if (_writer is not null)
            await _writer.ConfigureAwait(false);
        await DisposeResourcesAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
