namespace Flame.ObjectCache;

/// <summary>What an object-cache key names: a whole object, every object of one session, or nothing valid.</summary>
public enum ObjectKeyKind
{
    /// <summary>Not a key: wrong number of components, or a component that is empty or holds <c>..</c>, <c>\</c>, <c>*</c>.</summary>
    Invalid,

    /// <summary><c>app/session</c>: a PUT there makes the server choose the object id.</summary>
    Prefix,

    /// <summary><c>app/session/object_id</c>.</summary>
    Full,
}

/// <summary>
/// The key rules of Flame's object cache (flame-object-cache §2): <c>&lt;app&gt;/&lt;session&gt;/&lt;object_id&gt;</c>, each component
/// non-empty, without <c>..</c> or <c>\</c>; <c>*</c> only as the session of a DELETE (<c>app/*</c>).
/// </summary>
public static class ObjectKeys
{
    /// <summary>Whether one component of a key may be used.</summary>
    public static bool IsValidComponent(string component) =>
        component.Length > 0 && !component.Contains("..", StringComparison.Ordinal) && !component.Contains('\\');

    /// <summary>
    /// The kind of <paramref name="key"/> for a PUT, PATCH or read: <c>*</c> is refused everywhere, and so is <c>:</c>
    /// when <paramref name="forWrite"/> (a key holding <c>:</c> could be written and never read: DoGet splits its
    /// ticket at the first one).
    /// </summary>
    public static ObjectKeyKind Classify(string key, bool forWrite = true)
    {
        var parts = key.Split('/');
        if (parts.Length is < 2 or > 3)
            return ObjectKeyKind.Invalid;
        foreach (var part in parts)
        {
            if (!IsValidComponent(part) || part == "*" || (forWrite && part.Contains(':')))
                return ObjectKeyKind.Invalid;
        }
        return parts.Length == 3 ? ObjectKeyKind.Full : ObjectKeyKind.Prefix;
    }

    /// <summary>
    /// The key prefix a DELETE body names, with its trailing <c>/</c> for a session or an app (<c>app/*</c> becomes
    /// <c>app/</c>), or the full key itself; null when the body is not a valid DELETE target.
    /// </summary>
    public static string? DeleteTarget(string body)
    {
        var parts = body.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => !IsValidComponent(p)))
            return null;
        if (parts[0] == "*" || (parts.Length == 3 && (parts[1] == "*" || parts[2] == "*")))
            return null;
        if (parts[1] == "*")
            return parts.Length == 2 ? parts[0] + "/" : null;
        return parts.Length == 2 ? body + "/" : body;
    }

    /// <summary>The app of a full key or prefix (its first component).</summary>
    public static string App(string key) => key[..key.IndexOf('/')];

    /// <summary>The <c>app/session</c> prefix of a full key.</summary>
    public static string SessionPrefix(string fullKey) => fullKey[..fullKey.LastIndexOf('/')];
}
