using System.Collections.Concurrent;
using Flame.Grains;

namespace Flame.SessionManager.Security;

/// <summary>
/// What a caller may touch, once the method table let it call: a user only the sessions it owns, a node only itself and
/// the executors on it. Admins pass every check. A refusal is PERMISSION_DENIED naming who and what (another user's
/// session too, rather than NOT_FOUND: the caller learns only that the id is taken, which CreateSession tells anyone).
/// </summary>
internal sealed class Authorizer(IGrainFactory grains)
{
    // Which node each executor is on: it never changes for an executor id, so a node's per-task calls cost no grain call.
    private readonly ConcurrentDictionary<string, string> _executorNodes = new(StringComparer.Ordinal);

    /// <summary>The owner a session created by <paramref name="caller"/> records.</summary>
    public static SessionSpec Owned(SessionSpec spec, Caller caller) => spec with { Owner = caller.Name };

    /// <summary>Refuses a user's <paramref name="action"/> on a session it does not own; reads the session only for users.</summary>
    public async Task CheckSessionAsync(Caller caller, string sessionId, string action)
    {
        if (caller.Role == FlameRole.Admin)
            return;
        var session = await grains.GetGrain<ISessionGrain>(FlameIds.ValidateSessionId(sessionId)).GetAsync();
        CheckOwned(caller, session, action);
    }

    /// <summary>Refuses a user's <paramref name="action"/> on <paramref name="session"/> unless it owns it.</summary>
    public static SessionInfo CheckOwned(Caller caller, SessionInfo session, string action)
    {
        if (!MayTouch(caller, session))
            throw FlameException.PermissionDenied($"{caller.Describe()} may not {action} session '{session.Id}' (it belongs to another owner)");
        return session;
    }

    /// <summary>Whether <paramref name="caller"/> may see <paramref name="session"/>: admins every one, users their own.</summary>
    public static bool MayTouch(Caller caller, SessionInfo session) =>
        caller.Role == FlameRole.Admin || (caller.Role == FlameRole.User && session.Spec.Owner == caller.Name);

    /// <summary>An application as <paramref name="caller"/> may see it: environment values only for admins (they hold secrets).</summary>
    public static ApplicationInfo Visible(Caller caller, ApplicationInfo application) =>
        caller.Role == FlameRole.Admin || application.Spec.Environments.Count == 0
            ? application
            : application with { Spec = application.Spec with { Environments = [.. application.Spec.Environments.Select(v => v with { Value = "" })] } };

    /// <summary>Refuses a node's <paramref name="action"/> for any node but its own.</summary>
    public static void CheckNode(Caller caller, string? node, string action)
    {
        if (caller.Role == FlameRole.Node && node != caller.Node)
            throw FlameException.PermissionDenied($"{caller.Describe()} may not {action} for node '{LogText.Escape(node)}'");
    }

    /// <summary>Refuses a node's <paramref name="action"/> for an executor that is not on its node.</summary>
    public async ValueTask CheckExecutorAsync(Caller caller, string executorId, string action)
    {
        if (caller.Role != FlameRole.Node)
            return;
        if (!_executorNodes.TryGetValue(executorId, out var node))
        {
            node = (await grains.GetGrain<IExecutorGrain>(executorId).GetAsync()).Node;
            _executorNodes[executorId] = node;
        }
        if (node != caller.Node)
            throw FlameException.PermissionDenied($"{caller.Describe()} may not {action} for executor '{executorId}' of node '{node}'");
    }

    /// <summary>Drops what is known of an executor that left (its id is not reused, but the cache need not grow).</summary>
    public void Forget(string executorId) => _executorNodes.TryRemove(executorId, out _);
}
