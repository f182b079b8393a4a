using Flame.SessionManager.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>CreateSession, OpenSession, CloseSession, DeleteSession, GetSession, ListSession over gRPC.</summary>
[Collection(GatewayCollection.Name)]
public sealed partial class SessionRpcTests(GatewayFixture gateway)
{
    private Frontend.FrontendClient Frontend => gateway.Frontend;

    private Task<Session> Get(string sessionId) =>
        Frontend.GetSessionAsync(new GetSessionRequest { SessionId = sessionId }).ResponseAsync;

    private Task<Session> Close(string sessionId) =>
        Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = sessionId }).ResponseAsync;

    // ---------------------------------------------------------------- CreateSession

    [Fact]
    public async Task CreateSession_UsesTheClientsId_AndRoundTripsEverySpecField()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("pi");
        var spec = new SessionSpec
        {
            Application = app,
            CommonData = ByteString.CopyFrom(1, 2, 3),
            MinInstances = 1,
            MaxInstances = 4,
            BatchSize = 2,
            Priority = 7,
            Resreq = new ResourceRequirement { Cpu = 2, Memory = 1UL << 30, Gpu = 1 },
        };
        var before = NowMs();

        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = spec });
        var after = NowMs();

        Assert.Equal(id, session.Metadata.Id);
        Assert.Equal(id, session.Metadata.Name);
        Assert.Equal(spec, session.Spec);
        Assert.Equal(SessionState.Open, session.Status.State);
        AssertTimeBetween(before, session.Status.CreationTime, after, "creation_time");
        Assert.False(session.Status.HasCompletionTime, "an open session has no completion_time");
        Assert.Equal((0, 0, 0, 0, 0), (session.Status.Pending, session.Status.Running, session.Status.Succeed, session.Status.Failed, session.Status.Cancelled));
        var created = Assert.Single(session.Status.Events);
        Assert.Equal(SessionEventCodes.Created, created.Code);
        Assert.Equal(session.Status.CreationTime, created.CreationTime);
        Assert.Equal(session, await Get(id));
    }

    [Fact]
    public async Task CreateSession_LeavesOptionalSpecFieldsUnset_WhenNotGiven_AndGivesFlamesDefaultResreq()
    {
        var app = await Frontend.RegisterAppAsync();
        var spec = new SessionSpec { Application = app };

        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = Names.Unique("s"), Session = spec });

        Assert.False(session.Spec.HasCommonData);
        Assert.False(session.Spec.HasMaxInstances);
        // Resolved as Flame resolves it (cpu=1,mem=1g: one core, 1 GiB), stored and returned.
        var resolved = spec.Clone();
        resolved.Resreq = new ResourceRequirement { Cpu = 1, Memory = 1UL << 30, Gpu = 0 };
        Assert.Equal(resolved, session.Spec);
        Assert.Equal(resolved, (await Get(session.Metadata.Id)).Spec);
    }

    [Fact]
    public async Task CreateSession_KeepsAnExplicitResreq_EvenAllZeros()
    {
        var app = await Frontend.RegisterAppAsync();
        var spec = new SessionSpec { Application = app, Resreq = new ResourceRequirement() };

        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = Names.Unique("s"), Session = spec });

        Assert.Equal(new ResourceRequirement(), session.Spec.Resreq);
    }

    [Fact]
    public async Task CreateSession_GivesTheConfiguredDefaultResreq_WhenTheClusterSetsOne()
    {
        await using var gateway = await Flame.Testing.InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:Execution:DefaultResReq"] = "cpu=2, MEM=512m, gpu=1",
        });
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(gateway.Endpoint);
        var frontend = new Frontend.FrontendClient(channel);
        var app = await frontend.RegisterAppAsync();

        var session = await frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = Names.Unique("s"), Session = new SessionSpec { Application = app } });

        Assert.Equal(new ResourceRequirement { Cpu = 2, Memory = 512UL << 20, Gpu = 1 }, session.Spec.Resreq);
    }

    [Fact]
    public async Task CreateSession_KeepsEmptyCommonData_ApartFromUnset()
    {
        var app = await Frontend.RegisterAppAsync();
        var spec = new SessionSpec { Application = app, CommonData = ByteString.Empty };

        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = Names.Unique("s"), Session = spec });

        Assert.True(session.Spec.HasCommonData, "empty common data was given, so it must be present");
        Assert.True((await Get(session.Metadata.Id)).Spec.HasCommonData);
    }

    [Fact]
    public async Task CreateSession_PicksAFreshId_WhenTheClientGivesNone()
    {
        var app = await Frontend.RegisterAppAsync();

        var first = await Frontend.CreateSessionAsync(new CreateSessionRequest { Session = new SessionSpec { Application = app } });
        var second = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = "", Session = new SessionSpec { Application = app } });

        foreach (var session in new[] { first, second })
        {
            Assert.StartsWith(app + "-", session.Metadata.Id);
            Assert.Equal(session.Metadata.Id, session.Metadata.Name);
            Assert.Matches("^[A-Za-z0-9._-]{1,253}$", session.Metadata.Id);
            Assert.Equal(session, await Get(session.Metadata.Id));
        }
        Assert.NotEqual(first.Metadata.Id, second.Metadata.Id);
    }

    [Fact]
    public async Task CreateSession_PicksAValidId_ForAnApplicationWithALongName()
    {
        var app = Names.Unique("long") + new string('x', 253 - 15);
        await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = app,
            Application = new ApplicationSpec { Command = "/bin/true" },
        });

        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest { Session = new SessionSpec { Application = app } });

        Assert.InRange(session.Metadata.Id.Length, 1, 253);
        Assert.Equal(session, await Get(session.Metadata.Id));
    }

    [Fact]
    public async Task CreateSession_Fails_WhenIdIsTaken_AndLeavesTheSessionAsItWas()
    {
        var session = await Frontend.NewSessionAsync();
        var id = session.Metadata.Id;
        await Frontend.NewTaskAsync(id, "x");
        var before = await Get(id);
        var otherApp = await Frontend.RegisterAppAsync();

        await AssertFailsAsync(StatusCode.AlreadyExists,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest
            {
                SessionId = id,
                Session = new SessionSpec { Application = otherApp, Priority = 9 },
            })),
            id);

        Assert.Equal(before, await Get(id));
        Assert.Single(await Frontend.ListSessionIdsAsync(), x => x == id);
    }

    [Fact]
    public async Task CreateSession_Succeeds_ForExactlyOneOfConcurrentCreatesWithTheSameId()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("race");

        var attempts = Enumerable.Range(0, 16).Select(async _ =>
        {
            try
            {
                await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = new SessionSpec { Application = app } });
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        });
        var outcomes = await Wait.For(Task.WhenAll(attempts), "16 concurrent CreateSession calls");

        Assert.Equal(1, outcomes.Count(c => c == StatusCode.OK));
        Assert.Equal(15, outcomes.Count(c => c == StatusCode.AlreadyExists));
        Assert.Single(await Frontend.ListSessionIdsAsync(), x => x == id);
    }

    [Fact]
    public async Task CreateSession_Fails_WhenApplicationIsUnknown_AndCreatesNothing()
    {
        var app = Names.Unique("app-missing");
        var id = Names.Unique("s");
        var before = await Frontend.ListSessionIdsAsync();

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = new SessionSpec { Application = app } })),
            $"application '{app}' not found");
        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest { Session = new SessionSpec { Application = app } })),
            app);

        Assert.Equal(before, await Frontend.ListSessionIdsAsync());
        await AssertFailsAsync(StatusCode.NotFound, () => Get(id), id);
    }

    [Theory]
    [InlineData("has space", "' '")]
    [InlineData("a/b", "'/'")]
    [InlineData("tab\there", "'\\t'")] // escaped: a refusal carries no control character
    [InlineData("ünïcode", "'ü'")]
    public async Task CreateSession_Fails_WhenIdHasACharacterOutsideTheAllowedSet(string id, string mention)
    {
        var app = await Frontend.RegisterAppAsync();
        var before = await Frontend.ListSessionIdsAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = new SessionSpec { Application = app } })),
            "session id", mention);

        Assert.Equal(before, await Frontend.ListSessionIdsAsync());
    }

    [Fact]
    public async Task CreateSession_Fails_WhenIdIsLongerThan253Characters()
    {
        var app = await Frontend.RegisterAppAsync();
        var before = await Frontend.ListSessionIdsAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest
            {
                SessionId = new string('s', 254),
                Session = new SessionSpec { Application = app },
            })),
            "session id", "254", "253");

        Assert.Equal(before, await Frontend.ListSessionIdsAsync());
    }

    [Fact]
    public async Task CreateSession_Accepts_AnIdOf253Characters()
    {
        var id = Names.Unique("s") + new string('x', 253 - 12);
        Assert.Equal(253, id.Length);

        var session = await Frontend.NewSessionAsync(sessionId: id);

        Assert.Equal(id, session.Metadata.Id);
        Assert.Equal(session, await Get(id));
    }

    [Fact]
    public async Task CreateSession_Fails_WhenSessionSpecIsMissing()
    {
        var id = Names.Unique("s");
        var before = await Frontend.ListSessionIdsAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id })),
            "session spec");

        Assert.Equal(before, await Frontend.ListSessionIdsAsync());
        await AssertFailsAsync(StatusCode.NotFound, () => Get(id), id);
    }

    [Fact]
    public async Task CreateSession_Fails_WhenApplicationNameIsEmpty()
    {
        var before = await Frontend.ListSessionIdsAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest { Session = new SessionSpec() })),
            "application name is empty");

        Assert.Equal(before, await Frontend.ListSessionIdsAsync());
    }

    [Fact]
    public async Task CreateSession_Fails_WhenCommonDataIsLargerThanTheLimit()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("s");
        var before = await Frontend.ListSessionIdsAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest
            {
                SessionId = id,
                Session = new SessionSpec { Application = app, CommonData = ByteString.CopyFrom(new byte[GatewayFixture.MaxCommonDataBytes + 1]) },
            })),
            "common data", $"{GatewayFixture.MaxCommonDataBytes + 1}", $"{GatewayFixture.MaxCommonDataBytes}", "Flame:Limits:MaxCommonDataBytes");

        Assert.Equal(before, await Frontend.ListSessionIdsAsync());
        await AssertFailsAsync(StatusCode.NotFound, () => Get(id), id);
    }

    [Fact]
    public async Task CreateSession_Accepts_CommonDataOfExactlyTheLimit()
    {
        var app = await Frontend.RegisterAppAsync();
        var data = ByteString.CopyFrom(Enumerable.Range(0, GatewayFixture.MaxCommonDataBytes).Select(i => (byte)i).ToArray());

        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest
        {
            SessionId = Names.Unique("s"),
            Session = new SessionSpec { Application = app, CommonData = data },
        });

        Assert.Equal(data, (await Get(session.Metadata.Id)).Spec.CommonData);
    }

    [Theory]
    [InlineData(0u, 0u, "max_instances is 0")]
    [InlineData(3u, 2u, "min_instances (3) is greater than max_instances (2)")]
    public async Task CreateSession_Fails_WhenInstanceBoundsAreInvalid(uint min, uint max, string mention)
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("s");
        var before = await Frontend.ListSessionIdsAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest
            {
                SessionId = id,
                Session = new SessionSpec { Application = app, MinInstances = min, MaxInstances = max },
            })),
            mention);

        Assert.Equal(before, await Frontend.ListSessionIdsAsync());
    }
}
