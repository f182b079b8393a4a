namespace Flame.Grains.Sessions;

/// <summary>The open sessions of one owner. See <see cref="ISessionOwnerGrain"/>.</summary>
/// <remarks>
/// Read from the task store when it activates, so that the count holds after a restart although the owner's sessions
/// stay in the store until used; it may then leave memory like any idle grain.
/// </remarks>
public sealed class SessionOwnerGrain(Flame.Storage.ITaskStore store) : Grain, ISessionOwnerGrain
{
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.LoadOpenSessionIdsOfOwnerAsync(this.GetPrimaryKeyString(), cancellationToken))
            _open.Add(id);
    }

    public Task OpenAsync(string sessionId, int limit)
    {
        if (!_open.Contains(sessionId) && _open.Count >= limit)
            throw FlameException.ResourceExhausted(
                $"owner '{this.GetPrimaryKeyString()}' has {_open.Count} open sessions; the limit is {limit} (Flame:Limits:MaxOpenSessionsPerOwner): close one first");
        _open.Add(sessionId);
        return Task.CompletedTask;
    }

    public Task RestoredAsync(string sessionId)
    {
        _open.Add(sessionId);
        return Task.CompletedTask;
    }

    public Task ClosedAsync(string sessionId)
    {
        _open.Remove(sessionId);
        return Task.CompletedTask;
    }

    public Task<int> CountAsync() => Task.FromResult(_open.Count);
}
