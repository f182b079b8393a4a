using Flame.Storage;

namespace Flame.Grains.Tests;

/// <summary>
/// A task store whose writes take <paramref name="latency"/>, like a round trip to PostgreSQL: the window between a
/// change and its durability is wide enough that a silo killed in it shows whether acknowledgements waited for it.
/// Each in-process silo has its own; <see cref="Cut"/> plays its process's death, which an in-process kill cannot:
/// a write still on its way lands nowhere.
/// </summary>
public sealed class LatentTaskStore(ITaskStore inner, TimeSpan latency) : ITaskStore
{
    private volatile bool _cut;

    /// <summary>
    /// From now on, writes (those on their way included) never complete: the silo that made them is dead, and an
    /// in-process silo killed by the test host still runs the grain code it had started.
    /// </summary>
    public void Cut() => _cut = true;

    public async Task WriteTasksAsync(string sessionId, IReadOnlyList<StoredTask> tasks, CancellationToken cancellationToken = default)
    {
        await Task.Delay(latency, cancellationToken);
        await UnlessCutAsync();
        await inner.WriteTasksAsync(sessionId, tasks, cancellationToken);
    }

    public async Task SaveSessionAsync(StoredSession session, CancellationToken cancellationToken = default)
    {
        await Task.Delay(latency, cancellationToken);
        await UnlessCutAsync();
        await inner.SaveSessionAsync(session, cancellationToken);
    }

    private Task UnlessCutAsync() => _cut ? Task.Delay(Timeout.Infinite) : Task.CompletedTask;

    public Task SaveApplicationAsync(StoredApplication application, CancellationToken cancellationToken = default) =>
        inner.SaveApplicationAsync(application, cancellationToken);

    public Task DeleteApplicationAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteApplicationAsync(name, cancellationToken);

    public Task<IReadOnlyList<StoredApplication>> LoadApplicationsAsync(CancellationToken cancellationToken = default) =>
        inner.LoadApplicationsAsync(cancellationToken);

    public Task SaveTokenAsync(StoredToken token, CancellationToken cancellationToken = default) => inner.SaveTokenAsync(token, cancellationToken);

    public Task DeleteTokenAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteTokenAsync(name, cancellationToken);

    public Task<IReadOnlyList<StoredToken>> LoadTokensAsync(CancellationToken cancellationToken = default) => inner.LoadTokensAsync(cancellationToken);

    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) => inner.DeleteSessionAsync(sessionId, cancellationToken);

    public Task<StoredSession?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        inner.LoadSessionAsync(sessionId, cancellationToken);

    public Task<IReadOnlyList<string>> LoadSessionIdsAsync(bool openOnly, CancellationToken cancellationToken = default) =>
        inner.LoadSessionIdsAsync(openOnly, cancellationToken);

    public IAsyncEnumerable<StoredTask> LoadTasksAsync(string sessionId, long afterId, CancellationToken cancellationToken = default) =>
        inner.LoadTasksAsync(sessionId, afterId, cancellationToken);

    public Task<StoredTask?> LoadTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default) =>
        inner.LoadTaskAsync(sessionId, taskId, cancellationToken);

    public Task<IReadOnlyList<StoredSessionSummary>> LoadSessionPageAsync(StoredSessionQuery query, CancellationToken cancellationToken = default) =>
        inner.LoadSessionPageAsync(query, cancellationToken);

    public Task<IReadOnlyList<StoredSessionWork>> LoadOpenSessionsWithWorkAsync(CancellationToken cancellationToken = default) =>
        inner.LoadOpenSessionsWithWorkAsync(cancellationToken);

    public Task<IReadOnlyList<string>> LoadOpenSessionIdsOfOwnerAsync(string owner, CancellationToken cancellationToken = default) =>
        inner.LoadOpenSessionIdsOfOwnerAsync(owner, cancellationToken);

    public Task<IReadOnlyList<string>> LoadClosedSessionIdsAsync(long closedBefore, int max, CancellationToken cancellationToken = default) =>
        inner.LoadClosedSessionIdsAsync(closedBefore, max, cancellationToken);
}
