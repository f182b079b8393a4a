namespace Flame.Grains.Sessions;

/// <summary>The open sessions of one owner. See <see cref="ISessionOwnerGrain"/>.</summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class SessionOwnerGrain : Grain, ISessionOwnerGrain
{
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);

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
