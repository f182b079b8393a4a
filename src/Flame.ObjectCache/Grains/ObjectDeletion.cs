using Flame.ObjectCache.Storage;

namespace Flame.ObjectCache.Grains;

/// <summary>A DELETE's work, shared by the Flight server and the deletion of a session's objects.</summary>
internal static class ObjectDeletion
{
    /// <summary>Deletes the object <paramref name="target"/>, or every object under it when it ends with <c>/</c>; how many.</summary>
    public static async Task<int> DeleteAsync(IGrainFactory grains, IObjectStore store, string target, CancellationToken cancellationToken)
    {
        if (!target.EndsWith('/'))
        {
            await grains.GetGrain<IObjectGrain>(target).DeleteAsync();
            return 1;
        }
        var found = await store.ListAsync(target, cancellationToken);
        // Through each grain, so that an active one forgets its version too; a later put starts again at 1.
        await Task.WhenAll(found.Select(m => grains.GetGrain<IObjectGrain>(m.Key).DeleteAsync()));
        return found.Count;
    }
}
