using System.Runtime.CompilerServices;

namespace Flame.Storage.Memory;

/// <summary>
/// A store that keeps everything in this process: nothing survives it. For tests, and for a cluster configured with
/// <c>Flame:Storage:Provider=Memory</c>. Thread-safe; every write is "durable" at once.
/// </summary>
public sealed class MemoryTaskStore : ITaskStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredApplication> _applications = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredToken> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<long, StoredTask>> _tasks = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task SaveApplicationAsync(StoredApplication application, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            _applications[application.Name] = application;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteApplicationAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            _applications.Remove(name);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredApplication>> LoadApplicationsAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<StoredApplication>>([.. _applications.Values.OrderBy(a => a.Name, StringComparer.Ordinal)]);
    }

    /// <inheritdoc />
    public Task SaveTokenAsync(StoredToken token, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            _tokens[token.Name] = token;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteTokenAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            _tokens.Remove(name);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredToken>> LoadTokensAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<StoredToken>>([.. _tokens.Values.OrderBy(t => t.Name, StringComparer.Ordinal)]);
    }

    /// <inheritdoc />
    public Task SaveSessionAsync(StoredSession session, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            _sessions[session.Id] = session;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _sessions.Remove(sessionId);
            _tasks.Remove(sessionId);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<StoredSession?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult(_sessions.GetValueOrDefault(sessionId));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> LoadSessionIdsAsync(bool openOnly, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<string>>(
                [.. _sessions.Values.Where(s => !openOnly || s.Open).Select(s => s.Id).Order(StringComparer.Ordinal)]);
    }

    /// <inheritdoc />
    public Task WriteTasksAsync(string sessionId, IReadOnlyList<StoredTask> tasks, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(sessionId, out var table))
                _tasks[sessionId] = table = [];
            foreach (var task in tasks)
                table[task.Id] = task.Input is null && table.TryGetValue(task.Id, out var old) ? task with { Input = old.Input } : task;
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredTask> LoadTasksAsync(string sessionId, long afterId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        List<StoredTask> tasks;
        lock (_lock)
            tasks = _tasks.TryGetValue(sessionId, out var table) ? [.. table.Values.Where(t => t.Id > afterId)] : [];
        foreach (var task in tasks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return task;
        }
        await Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<StoredTask?> LoadTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult(_tasks.TryGetValue(sessionId, out var table) ? table.GetValueOrDefault(taskId) : null);
    }
}
