using Flame.SessionManager.Security;
using Microsoft.Extensions.Logging;

namespace Flame.SessionManager.Tests;

/// <summary>The audit line as a structured log event (pure logic: a capturing logger).</summary>
public sealed class AuditLogTests
{
    private sealed class Capture : ILogger<AuditLog>
    {
        public List<(EventId Id, IReadOnlyList<KeyValuePair<string, object?>> State, string Text)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((eventId, (IReadOnlyList<KeyValuePair<string, object?>>)state!, formatter(state, exception)));
    }

    [Fact]
    public void AuditLine_NamesCallerActionTargetAndOutcome_InNamedPlaceholders()
    {
        var capture = new Capture();
        new AuditLog(capture).Done(new Caller("alice", FlameRole.User, null, Anonymous: false),
            "/flame.v1.Frontend/RegisterApplication", "evil", "PermissionDenied");

        var (id, state, text) = Assert.Single(capture.Lines);
        Assert.Equal(AuditLog.EventId, id.Id);
        Assert.Equal("Audit: alice (role user, anonymous False) RegisterApplication 'evil': PermissionDenied", text);
        var fields = state.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("alice", fields["Caller"]);
        Assert.Equal("RegisterApplication", fields["Action"]);
        Assert.Equal("evil", fields["Target"]);
    }

    [Fact]
    public void AuditLine_EscapesControlCharactersOfCallerText()
    {
        var capture = new Capture();
        new AuditLog(capture).Done(new Caller("mallory\nAudit: admin", FlameRole.Admin, null, Anonymous: false),
            "/flame.v1.Frontend/DeleteSession", "s\u001b[31m", "ok");

        var (_, _, text) = Assert.Single(capture.Lines);
        Assert.DoesNotContain('\n', text);
        Assert.Equal("Audit: mallory\\nAudit: admin (role admin, anonymous False) DeleteSession 's\\u001B[31m': ok", text);
    }

    [Fact]
    public void AdministrativeCalls_AreAudited_OthersAreNot()
    {
        foreach (var method in new[]
        {
            "/flame.v1.Frontend/RegisterApplication", "/flame.v1.Frontend/UpdateApplication", "/flame.v1.Frontend/UnregisterApplication",
            "/flame.v1.Frontend/DeleteSession", "/flame.v1.Backend/RegisterNode", "/flame.v1.Backend/ReleaseNode",
            "/flame.v1.SecurityExt/CreateToken", "/flame.v1.SecurityExt/RevokeToken",
        })
            Assert.True(AuditLog.IsAudited(method), method);
        Assert.False(AuditLog.IsAudited("/flame.v1.Frontend/CreateTask"));
        Assert.False(AuditLog.IsAudited("/flame.v1.Backend/CompleteTask"));
    }
}
