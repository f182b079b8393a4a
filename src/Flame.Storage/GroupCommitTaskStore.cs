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
                foreach (var write in writes)
                    write.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                // The loop must survive anything: the callers of this batch get the error, later batches try again.
                LogBatchFailed(ex, writes.Count, rows);
                foreach (var write in writes)
                    write.Done.TrySetException(ex);
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
