using Flame.SessionManager.Hosting;
using Flame.SessionManager.Options;
using Flame.SessionManager.Security;

namespace Flame.SessionManager.Tests;

/// <summary>The method table and the anonymous default, as pure logic.</summary>
public sealed class AccessPolicyTests
{
    private static readonly Caller Admin = new("root", FlameRole.Admin, null, Anonymous: false);
    private static readonly Caller User = new("alice", FlameRole.User, null, Anonymous: false);
    private static readonly Caller Node = new("em-1", FlameRole.Node, "em-1", Anonymous: false);
    private static readonly Caller AnonymousUser = new(Caller.AnonymousName, FlameRole.User, null, Anonymous: true);

    [Theory]
    [InlineData("/flame.v1.Frontend/RegisterApplication", true, false, false)]
    [InlineData("/flame.v1.Frontend/UpdateApplication", true, false, false)]
    [InlineData("/flame.v1.Frontend/UnregisterApplication", true, false, false)]
    [InlineData("/flame.v1.Frontend/GetApplication", true, true, false)]
    [InlineData("/flame.v1.Frontend/ListApplication", true, true, false)]
    [InlineData("/flame.v1.Frontend/ListNodes", true, false, false)]
    [InlineData("/flame.v1.Frontend/ListExecutor", true, false, false)]
    [InlineData("/flame.v1.Frontend/CreateSession", true, true, false)]
    [InlineData("/flame.v1.Frontend/DeleteSession", true, true, false)]
    [InlineData("/flame.v1.Frontend/WatchTask", true, true, false)]
    [InlineData("/flame.v1.FrontendExt/CreateTasks", true, true, false)]
    [InlineData("/flame.v1.FrontendExt/WatchSession", true, true, false)]
    [InlineData("/flame.v1.Backend/RegisterNode", true, false, true)]
    [InlineData("/flame.v1.Backend/CompleteTask", true, false, true)]
    [InlineData("/flame.v1.BackendExt/CompleteAndLaunchTasks", true, false, true)]
    [InlineData("/flame.v1.ClusterExt/GetClusterStatus", true, false, false)]
    [InlineData("/flame.v1.SecurityExt/CreateToken", true, false, false)]
    [InlineData("/flame.v1.SecurityExt/RevokeToken", true, false, false)]
    [InlineData("/grpc.health.v1.Health/Check", true, true, true)]
    [InlineData("/flame.v1.Future/Unknown", true, false, false)]
    public void Policy_AllowsEachRole_ExactlyTheMethodsOfTheTable(string method, bool admin, bool user, bool node)
    {
        Assert.Equal(admin, AccessPolicy.Refusal(Admin, method) is null);
        Assert.Equal(user, AccessPolicy.Refusal(User, method) is null);
        Assert.Equal(node, AccessPolicy.Refusal(Node, method) is null);
    }

    [Fact]
    public void Refusal_NamesTheCallerTheMethodAndWhoMayCallIt()
    {
        Assert.Equal("user 'alice' may not RegisterApplication (admin only)",
            AccessPolicy.Refusal(User, "/flame.v1.Frontend/RegisterApplication"));
        Assert.Equal("node 'em-1' may not CreateSession (users and admins only)",
            AccessPolicy.Refusal(Node, "/flame.v1.Frontend/CreateSession"));
        Assert.Equal("anonymous (user) may not ReleaseNode (nodes and admins only)",
            AccessPolicy.Refusal(AnonymousUser, "/flame.v1.Backend/ReleaseNode"));
    }

    [Fact]
    public void CallerText_InRefusals_HasItsControlCharactersEscaped()
    {
        var forged = new Caller("x\nAudit: admin", FlameRole.User, null, Anonymous: false);
        Assert.Equal("user 'x\\nAudit: admin' may not RegisterApplication (admin only)",
            AccessPolicy.Refusal(forged, "/flame.v1.Frontend/RegisterApplication"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", AnonymousAccess.Admin)]
    [InlineData("http://localhost:8080", AnonymousAccess.Admin)]
    [InlineData("http://[::1]:8080", AnonymousAccess.Admin)]
    [InlineData("http://0.0.0.0:8080", AnonymousAccess.None)]
    [InlineData("http://10.1.2.3:8080", AnonymousAccess.None)]
    public void Anonymous_DefaultsToAdminOnLoopbackOnly_ElseNone(string endpoint, AnonymousAccess expected)
    {
        var resolved = ResolvedSecurity.Resolve(new FlameSecurityOptions(), GatewayEndpoint.Parse(endpoint, "test"));
        Assert.Equal(expected, resolved.Anonymous);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8081", AnonymousAccess.Admin)]
    [InlineData("http://0.0.0.0:8081", AnonymousAccess.None)]
    public void Anonymous_DefaultsToAdminOnlyWhenTheBackendPortIsOnLoopbackToo(string backend, AnonymousAccess expected)
    {
        var resolved = ResolvedSecurity.Resolve(new FlameSecurityOptions(), GatewayEndpoint.Parse("http://127.0.0.1:8080", "test"),
            GatewayEndpoint.Parse(backend, "test"));
        Assert.Equal(expected, resolved.Anonymous);
    }

    [Fact]
    public void ACallersName_InARefusal_HasItsBidiOverridesEscaped_AndIsCut()
    {
        var reversed = new Caller("evil\u202Etxt.exe", FlameRole.User, null, Anonymous: false);
        var longName = new Caller(new string('a', 2000), FlameRole.User, null, Anonymous: false);

        Assert.Equal("user 'evil\\u202Etxt.exe'", reversed.Describe());
        Assert.Equal($"user '{new string('a', 1024)}… (976 more characters)'", longName.Describe());
    }

    [Fact]
    public void Anonymous_GivenExplicitly_WinsOverTheDefault()
    {
        var resolved = ResolvedSecurity.Resolve(new FlameSecurityOptions { Anonymous = AnonymousAccess.User }, GatewayEndpoint.Parse("http://0.0.0.0:8080", "test"));
        Assert.Equal(AnonymousAccess.User, resolved.Anonymous);
    }

    [Fact]
    public void MissingAdminTokenFile_StopsTheStart_NamingTheKey()
    {
        var error = Assert.Throws<FlameConfigurationException>(() => ResolvedSecurity.Resolve(
            new FlameSecurityOptions { AdminTokenFile = "/nonexistent/admin.token" }, GatewayEndpoint.Parse("http://127.0.0.1:8080", "test")));
        Assert.Contains("Flame:Security:AdminTokenFile", error.Message);
    }
}
