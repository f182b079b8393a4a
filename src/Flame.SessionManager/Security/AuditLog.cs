using Flame.V1;

namespace Flame.SessionManager.Security;

/// <summary>
/// One structured line per administrative call (event <see cref="EventId"/>): who made it, what, on what, and how it
/// ended. Caller text is escaped, so a name cannot forge a line; tokens never appear.
/// </summary>
public sealed partial class AuditLog(ILogger<AuditLog> logger)
{
    /// <summary>The event id of audit lines, for filtering.</summary>
    public const int EventId = 9100;

    private static readonly HashSet<string> Audited = new(StringComparer.Ordinal)
    {
        "/flame.v1.Frontend/RegisterApplication", "/flame.v1.Frontend/UpdateApplication", "/flame.v1.Frontend/UnregisterApplication",
        "/flame.v1.Frontend/DeleteSession",
        "/flame.v1.Backend/RegisterNode", "/flame.v1.Backend/ReleaseNode",
        "/flame.v1.SecurityExt/CreateToken", "/flame.v1.SecurityExt/RevokeToken",
    };

    /// <summary>Whether calls of <paramref name="method"/> are audited.</summary>
    public static bool IsAudited(string method) => Audited.Contains(method);

    /// <summary>The name a request acts on: an application, a session, a node, a token.</summary>
    public static string TargetOf(object? request) => request switch
    {
        RegisterApplicationRequest r => r.Name,
        UpdateApplicationRequest r => r.Name,
        UnregisterApplicationRequest r => r.Name,
        DeleteSessionRequest r => r.SessionId,
        RegisterNodeRequest r => r.Node?.Metadata?.Name ?? "",
        ReleaseNodeRequest r => r.NodeName,
        CreateTokenRequest r => r.Name,
        RevokeTokenRequest r => r.Name,
        _ => "",
    };

    /// <summary>Writes the line of one call.</summary>
    public void Done(Caller caller, string method, string target, string outcome) =>
        LogAudit(LogText.Escape(caller.Name), Caller.RoleName(caller.Role), caller.Anonymous, method[(method.LastIndexOf('/') + 1)..],
            LogText.Escape(target), outcome);
}
