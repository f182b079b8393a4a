namespace Flame.SessionManager.Security;

/// <summary>Which roles may call a gateway method at all; what they may touch is checked by the services.</summary>
public enum MethodAccess
{
    /// <summary>Anyone, even without a credential (health checks).</summary>
    Public,
    /// <summary>Admins only.</summary>
    Admin,
    /// <summary>Users and admins: sessions, tasks, reading applications.</summary>
    User,
    /// <summary>Nodes and admins: the Backend.</summary>
    Node,
}

/// <summary>
/// The method table of the gateway's authorization: pure logic, checked by the authentication interceptor before a
/// call reaches its service. A method not in the table is for admins only, so that a service added later is closed
/// until someone decides otherwise.
/// </summary>
public static class AccessPolicy
{
    private static readonly Dictionary<string, MethodAccess> Table = Build();

    private static Dictionary<string, MethodAccess> Build()
    {
        var table = new Dictionary<string, MethodAccess>(StringComparer.Ordinal);
        void Add(string service, MethodAccess access, params string[] methods)
        {
            foreach (var method in methods)
                table[$"/{service}/{method}"] = access;
        }
        Add("flame.v1.Frontend", MethodAccess.Admin, "RegisterApplication", "UnregisterApplication", "UpdateApplication",
            "ListExecutor", "ListNodes", "GetNode");
        Add("flame.v1.Frontend", MethodAccess.User, "GetApplication", "ListApplication",
            "CreateSession", "DeleteSession", "OpenSession", "CloseSession", "GetSession", "ListSession",
            "CreateTask", "GetTask", "WatchTask", "ListTask");
        Add("flame.v1.FrontendExt", MethodAccess.User, "CreateTasks", "WatchSession", "ListSessions");
        Add("flame.v1.FrontendExt", MethodAccess.Admin, "PruneSessions");
        Add("flame.v1.Backend", MethodAccess.Node, "RegisterNode", "SyncNode", "ReleaseNode", "WatchNode",
            "RegisterExecutor", "UnregisterExecutor", "BindExecutor", "BindExecutorCompleted", "UnbindExecutor",
            "UnbindExecutorCompleted", "LaunchTask", "CompleteTask");
        Add("flame.v1.BackendExt", MethodAccess.Node, "CompleteAndLaunchTask", "CompleteAndLaunchTasks");
        Add("flame.v1.ClusterExt", MethodAccess.Admin, "GetClusterStatus");
        Add("flame.v1.SecurityExt", MethodAccess.Admin, "CreateToken", "ListTokens", "RevokeToken");
        Add("grpc.health.v1.Health", MethodAccess.Public, "Check", "Watch");
        // Reflection describes the public protos only; any authenticated caller may use grpcurl.
        Add("grpc.reflection.v1alpha.ServerReflection", MethodAccess.User, "ServerReflectionInfo");
        Add("grpc.reflection.v1.ServerReflection", MethodAccess.User, "ServerReflectionInfo");
        return table;
    }

    /// <summary>Who may call <paramref name="method"/> (gRPC's <c>/package.Service/Method</c>).</summary>
    public static MethodAccess AccessOf(string method) => Table.GetValueOrDefault(method, MethodAccess.Admin);

    /// <summary>Null when <paramref name="caller"/> may call <paramref name="method"/>, else the refusal's message.</summary>
    public static string? Refusal(Caller caller, string method)
    {
        var access = AccessOf(method);
        var allowed = access switch
        {
            MethodAccess.Public => true,
            MethodAccess.Admin => caller.Role == FlameRole.Admin,
            MethodAccess.User => caller.Role is FlameRole.Admin or FlameRole.User,
            MethodAccess.Node => caller.Role is FlameRole.Admin or FlameRole.Node,
            _ => false,
        };
        if (allowed)
            return null;
        var name = method[(method.LastIndexOf('/') + 1)..];
        var who = access switch
        {
            MethodAccess.Admin => "admin only",
            MethodAccess.User => "users and admins only",
            MethodAccess.Node => "nodes and admins only",
            _ => "",
        };
        return $"{caller.Describe()} may not {name} ({who})";
    }
}
