using Flame.Channels;
using Flame.Grains;
using Flame.SessionManager.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// A secured gateway as a cluster reachable from other machines runs it: <c>https://</c> with a certificate of a CA
/// made by the test, Flame:Security:Anonymous=None and a bootstrap admin token. Every rule of the authentication and
/// authorization is checked from outside, over real gRPC over real TLS, with the tokens the admin issues through
/// SecurityExt.
/// </summary>
public sealed class SecuredGatewayFixture : IAsyncLifetime
{
    private readonly string _adminTokenFile = Path.Combine(Path.GetTempPath(), $"flame-admin-{Guid.NewGuid():N}.token");
    private readonly List<GrpcChannel> _channels = [];
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private InProcessGateway? _gateway;

    /// <summary>The bootstrap admin token (Flame:Security:AdminTokenFile).</summary>
    public string AdminToken { get; } = TokenSecrets.NewSecret();

    public InProcessGateway Gateway => _gateway ?? throw new InvalidOperationException("the gateway is not started");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_adminTokenFile, AdminToken + "\n");
        _certificates.Issue();
        _gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:SessionManager:Endpoint"] = $"https://127.0.0.1:{FreePorts.Next()}",
            ["Flame:Security:Tls:CertificateFile"] = _certificates.CertificateFile,
            ["Flame:Security:Tls:KeyFile"] = _certificates.KeyFile,
            ["Flame:Security:Tls:CaFile"] = _certificates.CaFile,
            ["Flame:Security:Anonymous"] = "None",
            ["Flame:Security:AdminTokenFile"] = _adminTokenFile,
        });
    }

    /// <summary>
    /// A channel that trusts the test's CA and sends <paramref name="token"/> (none when null) with every call, as any
    /// gRPC client would.
    /// </summary>
    public GrpcChannel Channel(string? token)
    {
        var channel = Flame.Client.GrpcFlameClient.CreateChannel(
            new Flame.Client.Configuration.FlameConnection([new Uri(Gateway.Endpoint)], _certificates.CaFile, "test") { Token = token });
        lock (_channels)
            _channels.Add(channel);
        return channel;
    }

    /// <summary>Issues a token through SecurityExt as the bootstrap admin.</summary>
    public async Task<string> CreateTokenAsync(string role, string? node = null, string? name = null)
    {
        var security = new SecurityExt.SecurityExtClient(Channel(AdminToken));
        var reply = await security.CreateTokenAsync(new CreateTokenRequest { Name = name ?? Names.Unique(role), Role = role, Node = node ?? "" });
        return reply.Token;
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in _channels)
            channel.Dispose();
        if (_gateway is not null)
            await _gateway.DisposeAsync();
        File.Delete(_adminTokenFile);
        _certificates.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class SecuredGatewayCollection : ICollectionFixture<SecuredGatewayFixture>
{
    public const string Name = "secured gateway";
}

[Collection(SecuredGatewayCollection.Name)]
public sealed class AuthenticationTests(SecuredGatewayFixture fixture)
{
    [Fact]
    public async Task CallWithoutToken_IsUnauthenticated_WhenAnonymousIsNone()
    {
        var frontend = new Frontend.FrontendClient(fixture.Channel(token: null));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await frontend.ListSessionAsync(new ListSessionRequest()));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains("no token", error.Status.Detail);
    }

    [Fact]
    public async Task CallWithUnknownToken_IsUnauthenticated()
    {
        var frontend = new Frontend.FrontendClient(fixture.Channel(TokenSecrets.NewSecret()));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await frontend.ListSessionAsync(new ListSessionRequest()));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("invalid or revoked token", error.Status.Detail);
    }

    [Fact]
    public async Task HealthCheck_NeedsNoToken()
    {
        var health = new global::Grpc.Health.V1.Health.HealthClient(fixture.Channel(token: null));
        var reply = await health.CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Theory]
    [InlineData("anonymous", "token name 'anonymous' is reserved for callers without a token")]
    [InlineData("embedded-em-1", "token name 'embedded-em-1': names starting with 'embedded-' are reserved for the embedded executor manager's credential")]
    public async Task TokenNames_OfTheAnonymousCallerAndTheEmbeddedNode_AreReserved(string name, string message)
    {
        var security = new SecurityExt.SecurityExtClient(fixture.Channel(fixture.AdminToken));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await security.CreateTokenAsync(new CreateTokenRequest { Name = name, Role = "user" }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
    }

    [Fact]
    public async Task RevokedToken_StopsWorkingAtOnce_OnTheGatewayThatRevokedIt()
    {
        var name = Names.Unique("revoked");
        var token = await fixture.CreateTokenAsync("user", name: name);
        var frontend = new Frontend.FrontendClient(fixture.Channel(token));
        await frontend.ListSessionAsync(new ListSessionRequest());

        await new SecurityExt.SecurityExtClient(fixture.Channel(fixture.AdminToken)).RevokeTokenAsync(new RevokeTokenRequest { Name = name });

        var error = await Assert.ThrowsAsync<RpcException>(async () => await frontend.ListSessionAsync(new ListSessionRequest()));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("invalid or revoked token", error.Status.Detail);
    }

    [Fact]
    public async Task TokenRevokedElsewhere_StopsWorkingWithinTwoSeconds()
    {
        // Revoked in the registry grain directly, as another silo's gateway would: this gateway learns of it only
        // through its poll of the registry's version.
        var name = Names.Unique("elsewhere");
        var token = await fixture.CreateTokenAsync("user", name: name);
        var frontend = new Frontend.FrontendClient(fixture.Channel(token));
        await frontend.ListSessionAsync(new ListSessionRequest());

        var grains = fixture.Gateway.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<ITokenRegistryGrain>(ITokenRegistryGrain.Key).RevokeAsync(name);
        var revoked = DateTime.UtcNow;

        StatusCode? last = null;
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await frontend.ListSessionAsync(new ListSessionRequest());
                last = StatusCode.OK;
                return false;
            }
            catch (RpcException ex)
            {
                last = ex.StatusCode;
                return ex.StatusCode == StatusCode.Unauthenticated;
            }
        }, "the revoked token to be refused", seen: () => Task.FromResult($"{last}"), timeout: TimeSpan.FromSeconds(10));
        var took = DateTime.UtcNow - revoked;
        Assert.True(took < TimeSpan.FromSeconds(2.5), $"the revoked token still worked {took.TotalSeconds:0.0}s after its revocation");
    }

    [Fact]
    public async Task TokenList_ShowsNamesAndRoles_NeverSecrets()
    {
        var name = Names.Unique("listed");
        var token = await fixture.CreateTokenAsync("node", node: "em-listed", name: name);
        var list = await new SecurityExt.SecurityExtClient(fixture.Channel(fixture.AdminToken)).ListTokensAsync(new ListTokensRequest());
        var listed = Assert.Single(list.Tokens, t => t.Name == name);
        Assert.Equal("node", listed.Role);
        Assert.Equal("em-listed", listed.Node);
        Assert.DoesNotContain(token, list.ToString());
    }
}

[Collection(SecuredGatewayCollection.Name)]
public sealed class UserAuthorizationTests(SecuredGatewayFixture fixture)
{
    private static ApplicationSpec App(string command = "/bin/true") => new()
    {
        Command = command,
        Environments = { new Environment { Name = "DB_PASSWORD", Value = "hunter2" } },
    };

    private async Task<string> RegisterAsAdminAsync()
    {
        var name = Names.Unique("app");
        await new Frontend.FrontendClient(fixture.Channel(fixture.AdminToken))
            .RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = App() });
        return name;
    }

    [Fact]
    public async Task OpenSession_OfAnotherOwnersSession_WithADifferentSpec_IsDenied_WithoutTellingItsApplicationOrState()
    {
        var app = await RegisterAsAdminAsync();
        var alice = new Frontend.FrontendClient(fixture.Channel(await fixture.CreateTokenAsync("user")));
        var bobName = Names.Unique("bob");
        var bob = new Frontend.FrontendClient(fixture.Channel(await fixture.CreateTokenAsync("user", name: bobName)));
        var id = (await alice.NewSessionAsync(app)).Metadata.Id;

        var error = await Assert.ThrowsAsync<RpcException>(async () => await bob.OpenSessionAsync(new OpenSessionRequest
        {
            SessionId = id,
            Session = new SessionSpec { Application = Names.Unique("other") },
        }));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal($"user '{bobName}' may not OpenSession session '{id}' (it belongs to another owner)", error.Status.Detail);
    }

    [Fact]
    public async Task User_CannotRegisterOrUpdateApplications()
    {
        var tokenName = Names.Unique("alice");
        var user = new Frontend.FrontendClient(fixture.Channel(await fixture.CreateTokenAsync("user", name: tokenName)));
        var existing = await RegisterAsAdminAsync();

        var register = await Assert.ThrowsAsync<RpcException>(async () =>
            await user.RegisterApplicationAsync(new RegisterApplicationRequest { Name = Names.Unique("evil"), Application = App("/usr/bin/touch") }));
        Assert.Equal(StatusCode.PermissionDenied, register.StatusCode);
        Assert.Equal($"user '{tokenName}' may not RegisterApplication (admin only)", register.Status.Detail);

        var update = await Assert.ThrowsAsync<RpcException>(async () =>
            await user.UpdateApplicationAsync(new UpdateApplicationRequest { Name = existing, Application = App("/bin/sh") }));
        Assert.Equal(StatusCode.PermissionDenied, update.StatusCode);
        var admin = new Frontend.FrontendClient(fixture.Channel(fixture.AdminToken));
        Assert.Equal("/bin/true", (await admin.GetApplicationAsync(new GetApplicationRequest { Name = existing })).Spec.Command);
    }

    [Fact]
    public async Task User_DoesNotSeeEnvironmentValues_AdminDoes()
    {
        var app = await RegisterAsAdminAsync();
        var user = new Frontend.FrontendClient(fixture.Channel(await fixture.CreateTokenAsync("user")));
        var admin = new Frontend.FrontendClient(fixture.Channel(fixture.AdminToken));

        var seenByUser = await user.GetApplicationAsync(new GetApplicationRequest { Name = app });
        var variable = Assert.Single(seenByUser.Spec.Environments);
        Assert.Equal("DB_PASSWORD", variable.Name);
        Assert.Equal("", variable.Value);
        var listedToUser = (await user.ListApplicationAsync(new ListApplicationRequest())).Applications.Single(a => a.Metadata.Name == app);
        Assert.Equal("", listedToUser.Spec.Environments.Single().Value);

        var seenByAdmin = await admin.GetApplicationAsync(new GetApplicationRequest { Name = app });
        Assert.Equal("hunter2", seenByAdmin.Spec.Environments.Single().Value);
    }

    [Fact]
    public async Task User_CannotSeeOrCloseAnotherUsersSession_ButItsOwnerAndAnAdminCan()
    {
        var app = await RegisterAsAdminAsync();
        var alice = new Frontend.FrontendClient(fixture.Channel(await fixture.CreateTokenAsync("user")));
        var bobName = Names.Unique("bob");
        var bob = new Frontend.FrontendClient(fixture.Channel(await fixture.CreateTokenAsync("user", name: bobName)));
        var bobExt = new FrontendExt.FrontendExtClient(fixture.Channel(await fixture.CreateTokenAsync("user", name: bobName + "-2")));
        var admin = new Frontend.FrontendClient(fixture.Channel(fixture.AdminToken));

        var session = await alice.NewSessionAsync(app);
        await alice.NewTaskAsync(session.Metadata.Id, "private input");

        async Task Denied(Func<Task> call, string what)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(error.StatusCode == StatusCode.PermissionDenied, $"{what}: {error.StatusCode} {error.Status.Detail}");
        }
        var id = session.Metadata.Id;
        await Denied(async () => await bob.GetSessionAsync(new GetSessionRequest { SessionId = id }), "GetSession");
        await Denied(async () => await bob.GetTaskAsync(new GetTaskRequest { SessionId = id, TaskId = "1" }), "GetTask");
        await Denied(async () => await bob.ListTasksAsync(id), "ListTask");
        await Denied(async () => await bob.NewTaskAsync(id, "x"), "CreateTask");
        await Denied(async () => await bobExt.CreateTasksAsync(new CreateTasksRequest { SessionId = id, Inputs = { ByteString.Empty } }), "CreateTasks");
        await Denied(async () => await bob.OpenSessionAsync(new OpenSessionRequest { SessionId = id }), "OpenSession");
        await Denied(async () => await bob.CloseSessionAsync(new CloseSessionRequest { SessionId = id }), "CloseSession");
        var close = await Assert.ThrowsAsync<RpcException>(async () => await bob.CloseSessionAsync(new CloseSessionRequest { SessionId = id }));
        Assert.Equal($"user '{bobName}' may not CloseSession session '{id}' (it belongs to another owner)", close.Status.Detail);
        Assert.DoesNotContain((await bob.ListSessionAsync(new ListSessionRequest())).Sessions, s => s.Metadata.Id == id);

        Assert.Equal(SessionState.Open, (await alice.GetSessionAsync(new GetSessionRequest { SessionId = id })).Status.State);
        Assert.Contains((await alice.ListSessionAsync(new ListSessionRequest())).Sessions, s => s.Metadata.Id == id);
        Assert.Contains((await admin.ListSessionAsync(new ListSessionRequest())).Sessions, s => s.Metadata.Id == id);
        Assert.Equal(SessionState.Closed, (await admin.CloseSessionAsync(new CloseSessionRequest { SessionId = id })).Status.State);
        await Denied(async () => await bob.DeleteSessionAsync(new DeleteSessionRequest { SessionId = id }), "DeleteSession");
        await alice.DeleteSessionAsync(new DeleteSessionRequest { SessionId = id });
    }

    [Fact]
    public async Task User_CannotCallTheBackend_NorManageTokens()
    {
        var name = Names.Unique("carol");
        var channel = fixture.Channel(await fixture.CreateTokenAsync("user", name: name));
        var backend = new Backend.BackendClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await backend.ReleaseNodeAsync(new ReleaseNodeRequest { NodeName = "em-1" }));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal($"user '{name}' may not ReleaseNode (nodes and admins only)", error.Status.Detail);

        var tokens = await Assert.ThrowsAsync<RpcException>(async () =>
            await new SecurityExt.SecurityExtClient(channel).CreateTokenAsync(new CreateTokenRequest { Name = Names.Unique("x"), Role = "admin" }));
        Assert.Equal(StatusCode.PermissionDenied, tokens.StatusCode);
    }
}

[Collection(SecuredGatewayCollection.Name)]
public sealed class NodeAuthorizationTests(SecuredGatewayFixture fixture)
{
    private static Node NodeOf(string name)
    {
        var room = new ResourceRequirement { Cpu = 64_000, Memory = 1L << 36 };
        return new Node
        {
            Metadata = new Metadata { Id = name, Name = name },
            Spec = new NodeSpec { Hostname = name },
            Status = new NodeStatus { State = NodeState.Ready, Capacity = room, Allocatable = room },
        };
    }

    [Fact]
    public async Task Node_CannotRegisterAsAnotherNode_NorCallTheFrontend()
    {
        var node1 = Names.Unique("em");
        var backend = new Backend.BackendClient(fixture.Channel(await fixture.CreateTokenAsync("node", node: node1)));
        var other = Names.Unique("em");

        var error = await Assert.ThrowsAsync<RpcException>(async () => await backend.RegisterNodeAsync(new RegisterNodeRequest { Node = NodeOf(other) }));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal($"node '{node1}' (token '{error.Status.Detail.Split('\'')[3]}') may not RegisterNode for node '{other}'", error.Status.Detail);
        var release = await Assert.ThrowsAsync<RpcException>(async () => await backend.ReleaseNodeAsync(new ReleaseNodeRequest { NodeName = other }));
        Assert.Equal(StatusCode.PermissionDenied, release.StatusCode);
        await backend.RegisterNodeAsync(new RegisterNodeRequest { Node = NodeOf(node1) });

        var frontend = new Frontend.FrontendClient(fixture.Channel(await fixture.CreateTokenAsync("node", node: node1)));
        var list = await Assert.ThrowsAsync<RpcException>(async () => await frontend.ListSessionAsync(new ListSessionRequest()));
        Assert.Equal(StatusCode.PermissionDenied, list.StatusCode);
    }

    /// <summary>
    /// The attack of the issue: a fake executor manager with a node token of its own tries to take the executor the
    /// scheduler ordered on another node, to receive that session's common data and tasks and forge their results.
    /// </summary>
    [Fact]
    public async Task Node_CannotBindLaunchOrCompleteForAnotherNodesExecutor()
    {
        var victimNode = Names.Unique("em-victim");
        var attackerNode = Names.Unique("em-attacker");
        var victim = new Backend.BackendClient(fixture.Channel(await fixture.CreateTokenAsync("node", node: victimNode)));
        var attacker = new Backend.BackendClient(fixture.Channel(await fixture.CreateTokenAsync("node", node: attackerNode)));
        var attackerExt = new BackendExt.BackendExtClient(fixture.Channel(await fixture.CreateTokenAsync("node", node: attackerNode)));

        // The victim node registers and watches for executor orders, as an executor manager does.
        await victim.RegisterNodeAsync(new RegisterNodeRequest { Node = NodeOf(victimNode) });
        using var watch = victim.WatchNode();
        await watch.RequestStream.WriteAsync(new WatchNodeRequest { Heartbeat = new NodeHeartbeat { NodeName = victimNode, Status = NodeOf(victimNode).Status } });

        // The admin's session with a secret; the scheduler orders an executor on the only node with room.
        var admin = new Frontend.FrontendClient(fixture.Channel(fixture.AdminToken));
        var app = Names.Unique("app");
        await admin.RegisterApplicationAsync(new RegisterApplicationRequest { Name = app, Application = new ApplicationSpec { Command = "/bin/true" } });
        var session = await admin.CreateSessionAsync(new CreateSessionRequest
        {
            SessionId = Names.Unique("s"),
            Session = new SessionSpec { Application = app, CommonData = ByteString.CopyFromUtf8("DB_PASSWORD=hunter2"), Priority = 1000 },
        });
        await admin.NewTaskAsync(session.Metadata.Id, "secret input");

        string? executorId = null;
        await Wait.For(Task.Run(async () =>
        {
            while (await watch.ResponseStream.MoveNext(CancellationToken.None))
            {
                if (watch.ResponseStream.Current.Executor is { } order)
                {
                    executorId = order.Metadata.Id;
                    return;
                }
            }
        }), $"an executor order for node {victimNode}");
        var id = executorId!;

        async Task Denied(Func<Task> call, string what)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(error.StatusCode == StatusCode.PermissionDenied, $"{what}: {error.StatusCode} {error.Status.Detail}");
        }
        // Registering the ordered executor as the victim's: refused before it reaches the executor grain.
        await Denied(async () => await attacker.RegisterExecutorAsync(new RegisterExecutorRequest
        {
            ExecutorId = id,
            ExecutorSpec = new ExecutorSpec { Node = victimNode, Resreq = new ResourceRequirement { Cpu = 1000, Memory = 1 << 20 } },
        }), "RegisterExecutor for the victim's node");

        await victim.RegisterExecutorAsync(new RegisterExecutorRequest
        {
            ExecutorId = id,
            ExecutorSpec = new ExecutorSpec { Node = victimNode, Resreq = new ResourceRequirement { Cpu = 1000, Memory = 1 << 20 } },
        });
        await Denied(async () => await attacker.BindExecutorAsync(new BindExecutorRequest { ExecutorId = id }), "BindExecutor");
        var bind = await Assert.ThrowsAsync<RpcException>(async () => await attacker.BindExecutorAsync(new BindExecutorRequest { ExecutorId = id }));
        Assert.Contains($"may not BindExecutor for executor '{id}' of node '{victimNode}'", bind.Status.Detail);

        // The victim binds and takes the task, as its executor manager would.
        var binding = await victim.BindExecutorAsync(new BindExecutorRequest { ExecutorId = id });
        Assert.Equal(session.Metadata.Id, binding.Session.Metadata.Id);
        await victim.BindExecutorCompletedAsync(new BindExecutorCompletedRequest { ExecutorId = id });

        await Denied(async () => await attacker.LaunchTaskAsync(new LaunchTaskRequest { ExecutorId = id }), "LaunchTask");
        var launched = await victim.LaunchTaskAsync(new LaunchTaskRequest { ExecutorId = id });
        Assert.Equal("secret input", launched.Task.Spec.Input.ToStringUtf8());

        var forged = new TaskResult { ReturnCode = 0, Output = ByteString.CopyFromUtf8("forged") };
        await Denied(async () => await attacker.CompleteTaskAsync(new CompleteTaskRequest { ExecutorId = id, TaskResult = forged }), "CompleteTask");
        await Denied(async () => await attackerExt.CompleteAndLaunchTaskAsync(new CompleteAndLaunchTaskRequest { ExecutorId = id, TaskResult = forged }), "CompleteAndLaunchTask");
        using (var stream = attackerExt.CompleteAndLaunchTasks())
        {
            await stream.RequestStream.WriteAsync(new CompleteAndLaunchTaskRequest { ExecutorId = id, TaskResult = forged });
            await Denied(async () => await stream.ResponseStream.MoveNext(CancellationToken.None), "CompleteAndLaunchTasks");
        }
        await Denied(async () => await attacker.UnbindExecutorAsync(new UnbindExecutorRequest { ExecutorId = id }), "UnbindExecutor");

        // The task is still the victim's to finish, and finishes with the victim's result.
        await victim.CompleteTaskAsync(new CompleteTaskRequest { ExecutorId = id, TaskResult = new TaskResult { ReturnCode = 0, Output = ByteString.CopyFromUtf8("real") } });
        var task = await admin.GetTaskAsync(new GetTaskRequest { SessionId = session.Metadata.Id, TaskId = launched.Task.Metadata.Id });
        Assert.Equal(TaskState.Succeed, task.Status.State);
        Assert.Equal("real", task.Spec.Output.ToStringUtf8());
        await watch.RequestStream.CompleteAsync();
    }
}

/// <summary>Flame:Security:Anonymous=User: a flamepy-style client without a token runs sessions, but cannot register applications.</summary>
public sealed class AnonymousUserTests
{
    [Fact]
    public async Task ClientWithoutToken_CreatesSessions_ButCannotRegisterApplications_WhenAnonymousIsUser()
    {
        await using var gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?> { ["Flame:Security:Anonymous"] = "User" });
        var app = Names.Unique("app");
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key).RegisterAsync(app, new Flame.ApplicationSpec { Command = "/bin/true" });
        using var channel = GrpcChannel.ForAddress(gateway.Endpoint);
        var frontend = new Frontend.FrontendClient(channel);

        var session = await frontend.NewSessionAsync(app);
        var task = await frontend.NewTaskAsync(session.Metadata.Id, "hello");
        Assert.Equal(TaskState.Pending, task.Status.State);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = Names.Unique("evil"), Application = new ApplicationSpec { Command = "/usr/bin/touch" } }));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("anonymous (user) may not RegisterApplication (admin only)", error.Status.Detail);
    }
}

/// <summary>Flame:Limits:MaxOpenSessionsPerOwner: one caller cannot hold more open sessions than the limit.</summary>
public sealed class OpenSessionsPerOwnerTests
{
    [Fact]
    public async Task OneSessionMoreThanTheLimit_IsResourceExhausted_UntilTheOwnerClosesOne()
    {
        await using var gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?> { ["Flame:Limits:MaxOpenSessionsPerOwner"] = "2" });
        using var channel = GrpcChannel.ForAddress(gateway.Endpoint);
        var frontend = new Frontend.FrontendClient(channel);
        var app = await frontend.RegisterAppAsync();
        var first = await frontend.NewSessionAsync(app);
        await frontend.NewSessionAsync(app);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await frontend.NewSessionAsync(app));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("owner 'anonymous' has 2 open sessions; the limit is 2 (Flame:Limits:MaxOpenSessionsPerOwner): close one first", error.Status.Detail);

        await frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = first.Metadata.Id });
        // The close is counted one-way: the owner's count drops right after the close's answer.
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await frontend.NewSessionAsync(app);
                return true;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                return false;
            }
        }, "a new session once one of the two was closed");
    }
}
