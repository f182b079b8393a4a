using System.Text.Json;
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
    public Task<IReadOnlyList<StoredSessionSummary>> LoadSessionPageAsync(StoredSessionQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Max, 1);
        lock (_lock)
            return Task.FromResult<IReadOnlyList<StoredSessionSummary>>([.. _sessions.Values
                .Where(s => s.CreationTime > query.AfterCreationTime
                            || (s.CreationTime == query.AfterCreationTime && string.CompareOrdinal(s.Id, query.AfterId) > 0))
                .Where(s => query.Open is not { } open || s.Open == open)
                .Where(s => query.Application is not { } application || s.Application == application)
                .OrderBy(s => s.CreationTime).ThenBy(s => s.Id, StringComparer.Ordinal)
                .Take(query.Max)
                .Select(s => new StoredSessionSummary { Session = s, TaskCounts = CountsOf(s.Id) })]);
    }

    private int[] CountsOf(string sessionId)
    {
        var counts = new int[5];
        if (_tasks.TryGetValue(sessionId, out var table))
            foreach (var task in table.Values)
                if (task.State is >= 0 and < 5)
                    counts[task.State]++;
        return counts;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredSessionWork>> LoadOpenSessionsWithWorkAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<StoredSessionWork>>([.. _sessions.Values.Where(s => s.Open)
                .Select(s => (Work: CountsOf(s.Id) is var c ? new StoredSessionWork(s.Id, c[0], c[1]) : null!, s.Json))
                .Where(w => w.Work.Pending > 0 || w.Work.Running > 0 || SpecField(w.Json, "minInstances") is { ValueKind: JsonValueKind.Number } n && n.GetDouble() > 0)
                .Select(w => w.Work)]);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> LoadOpenSessionIdsOfOwnerAsync(string owner, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<string>>([.. _sessions.Values.Where(s => s.Open && OwnerOf(s.Json) == owner).Select(s => s.Id)]);
    }

    private static string? OwnerOf(string json) =>
        SpecField(json, "owner") is { ValueKind: JsonValueKind.String } owner ? owner.GetString() : null;

    private static JsonElement? SpecField(string json, string field)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty("spec", out var spec) && spec.ValueKind == JsonValueKind.Object
               && spec.TryGetProperty(field, out var value)
            ? value.Clone()
            : null;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> LoadClosedSessionIdsAsync(long closedBefore, int max, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<string>>([.. _sessions.Values
                .Where(s => !s.Open && s.CompletionTime is { } at && at < closedBefore)
                .OrderBy(s => s.CompletionTime).Take(max).Select(s => s.Id)]);
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
