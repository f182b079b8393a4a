namespace Flame;

/// <summary>
/// What else goes when a session is deleted: the object cache registers one to delete the session's objects
/// (<c>Flame:ObjectCache:DeleteWithSession</c>). The session grain calls every registered one after the session left the
/// store; with none registered (the cache off, or the setting false) a delete touches nothing else. Lets the grains
/// delete a session's objects without depending on the cache or Arrow Flight.
/// </summary>
public interface ISessionDeletionHook
{
    /// <summary>
    /// Deletes what belongs to session <paramref name="sessionId"/> of <paramref name="application"/>. Must not throw for
    /// a failure of its own (the session is gone already): it logs it instead.
    /// </summary>
    Task SessionDeletedAsync(string application, string sessionId);
}
