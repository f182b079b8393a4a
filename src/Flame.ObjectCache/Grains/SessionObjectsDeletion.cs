using Flame.ObjectCache.Storage;

namespace Flame.ObjectCache.Grains;

/// <summary>
/// <c>Flame:ObjectCache:DeleteWithSession</c>: a deleted session takes its objects (<c>app/session/*</c>) with it. Registered
/// only when the setting is true; a failure is logged, never passed to the session's delete (the session is gone).
/// </summary>
internal sealed partial class SessionObjectsDeletion(IGrainFactory grains, IObjectStore store, ILogger<SessionObjectsDeletion> logger)
    : ISessionDeletionHook
{
    /// <inheritdoc />
    public async Task SessionDeletedAsync(string application, string sessionId)
    {
        // A session id that cannot be a key component (e.g. holding '/') has no objects to delete.
        // "*" would name every object of the application.
        if (sessionId == "*" || ObjectKeys.DeleteTarget($"{application}/{sessionId}") is not { } target)
            return;
        try
        {
            var count = await ObjectDeletion.DeleteAsync(grains, store, target, CancellationToken.None);
            LogDeleted(logger, sessionId, count);
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex, sessionId);
        }
    }
}
