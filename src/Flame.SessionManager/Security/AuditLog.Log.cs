namespace Flame.SessionManager.Security;

public sealed partial class AuditLog
{
    [LoggerMessage(EventId = EventId, Level = LogLevel.Information,
        Message = "Audit: {Caller} (role {Role}, anonymous {Anonymous}) {Action} '{Target}': {Outcome}")]
    private partial void LogAudit(string caller, string role, bool anonymous, string action, string target, string outcome);
}
