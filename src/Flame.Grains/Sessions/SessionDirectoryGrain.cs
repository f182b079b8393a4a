using Flame.Storage;

namespace Flame.Grains.Sessions;

/// <summary>
/// The ids of every existing session, in creation order; after a restart, read back from the task store (whose
/// session rows are the truth: a session is in the store before its creation is acknowledged).
/// See <see cref="ISessionDirectoryGrain"/>.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class SessionDirectoryGrain(ITaskStore store) : Grain, ISessionDirectoryGrain
{
    // Insertion-ordered set: a dictionary from id to its position in an append-only list with holes,
    // so that add and remove are O(1) and listing keeps creation order.
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);
    private readonly List<string?> _ids = [];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.LoadSessionIdsAsync(openOnly: false, cancellationToken))
            await AddAsync(id);
    }

    public async Task WakeOpenSessionsAsync()
    {
        foreach (var id in await store.LoadSessionIdsAsync(openOnly: true))
            _ = GrainFactory.GetGrain<ISessionGrain>(id).WakeAsync(); // one-way
    }

    public Task AddAsync(string sessionId)
    {
        if (!_positions.ContainsKey(sessionId))
        {
            _positions[sessionId] = _ids.Count;
            _ids.Add(sessionId);
        }
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string sessionId)
    {
        if (_positions.Remove(sessionId, out var position))
        {
            _ids[position] = null;
            if (_positions.Count < _ids.Count / 2)
                Compact();
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>(_ids.Where(id => id is not null).ToArray()!);

    private void Compact()
    {
        var live = _ids.Where(id => id is not null).ToList();
        _ids.Clear();
        _positions.Clear();
        foreach (var id in live)
        {
            _positions[id!] = _ids.Count;
            _ids.Add(id);
        }
    }
}
