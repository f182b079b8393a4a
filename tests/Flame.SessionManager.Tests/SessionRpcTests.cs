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
public sealed class SessionRpcTests(GatewayFixture gateway)
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

    // ---------------------------------------------------------------- OpenSession

    [Fact]
    public async Task OpenSession_CreatesTheSession_WhenItIsMissingAndASpecIsGiven()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("open");
        var spec = new SessionSpec { Application = app, Priority = 3 };

        var session = await Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = spec });

        Assert.Equal(id, session.Metadata.Id);
        var resolved = spec.Clone();
        resolved.Resreq = new ResourceRequirement { Cpu = 1, Memory = 1UL << 30 }; // the cluster's default, as CreateSession
        Assert.Equal(resolved, session.Spec);
        Assert.Equal(SessionState.Open, session.Status.State);
        Assert.Equal(session, await Get(id));
        Assert.Single(await Frontend.ListSessionIdsAsync(), x => x == id);
    }

    [Fact]
    public async Task OpenSession_ReturnsTheExistingSession_WithoutASpecOrWithTheSameSpec()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("open");
        var spec = new SessionSpec { Application = app, CommonData = ByteString.CopyFromUtf8("cd"), MaxInstances = 2, Resreq = new ResourceRequirement { Cpu = 2 } };
        var created = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = spec });
        await Frontend.NewTaskAsync(id, "kept");

        var withoutSpec = await Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id });
        var withSameSpec = await Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = spec.Clone() });

        foreach (var opened in new[] { withoutSpec, withSameSpec })
        {
            Assert.Equal(created.Metadata, opened.Metadata);
            Assert.Equal(spec, opened.Spec);
            Assert.Equal(created.Status.CreationTime, opened.Status.CreationTime);
            Assert.Equal(1, opened.Status.Pending);
            Assert.Single(opened.Status.Events); // opening is not creating
        }
        await Frontend.AssertCountersAsync(id, pending: 1);
        Assert.Single(await Frontend.ListSessionIdsAsync(), x => x == id);
    }

    // Flame's validate_spec: common_data and batch_size may differ (see OpenSession_ReturnsTheSession_WhenOnlyCommonDataOrBatchSizeDiffer).
    public static TheoryData<string> ContradictingFields => new() { "application", "min_instances", "max_instances", "priority", "resreq" };

    [Theory]
    [MemberData(nameof(ContradictingFields))]
    public async Task OpenSession_Fails_WhenTheSpecContradictsTheExistingSession(string field)
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("open");
        var spec = new SessionSpec { Application = app, CommonData = ByteString.CopyFromUtf8("cd"), MaxInstances = 4, MinInstances = 1, Priority = 1 };
        await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = spec });
        await Frontend.NewTaskAsync(id);
        var before = await Get(id);
        var other = spec.Clone();
        switch (field)
        {
            case "application": other.Application = await Frontend.RegisterAppAsync(); break;
            case "min_instances": other.MinInstances = 2; break;
            case "max_instances": other.ClearMaxInstances(); break;
            case "priority": other.Priority = 5; break;
            case "resreq": other.Resreq = new ResourceRequirement { Cpu = 1 }; break;
        }

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = other })),
            id, "spec mismatch", $"{field} differs");

        Assert.Equal(before, await Get(id));
    }

    [Fact]
    public async Task OpenSession_ReturnsTheSession_WhenOnlyCommonDataOrBatchSizeDiffer_AsFlameDoes()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("open");
        var spec = new SessionSpec { Application = app, CommonData = ByteString.CopyFromUtf8("cd") };
        var created = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = spec });
        var other = spec.Clone();
        other.CommonData = ByteString.CopyFromUtf8("other");
        other.BatchSize = 8;

        var opened = await Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = other });

        Assert.Equal(created.Spec, opened.Spec);
    }

    [Fact]
    public async Task OpenSession_TakesAnOmittedResreqForTheClusterDefault_WhenComparing()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("open");
        var explicitDefault = new SessionSpec { Application = app, Resreq = new ResourceRequirement { Cpu = 1, Memory = 1UL << 30 } };
        await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = explicitDefault });

        var opened = await Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = new SessionSpec { Application = app } });

        Assert.Equal(explicitDefault.Resreq, opened.Spec.Resreq);
    }

    [Fact]
    public async Task OpenSession_Fails_WhenSessionIsMissingAndNoSpecIsGiven()
    {
        var id = Names.Unique("open-missing");

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id })),
            $"session '{id}' not found");

        Assert.DoesNotContain(id, await Frontend.ListSessionIdsAsync());
        await AssertFailsAsync(StatusCode.NotFound, () => Get(id), id);
    }

    [Fact]
    public async Task OpenSession_Fails_WhenSessionIsMissingAndItsApplicationToo()
    {
        var id = Names.Unique("open-noapp");
        var app = Names.Unique("app-missing");

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = new SessionSpec { Application = app } })),
            app);

        Assert.DoesNotContain(id, await Frontend.ListSessionIdsAsync());
    }

    [Fact]
    public async Task OpenSession_FailsWithInvalidArgument_WhenSessionIsClosed_WithOrWithoutASpec()
    {
        var session = await Frontend.NewSessionAsync();
        var id = session.Metadata.Id;
        var closed = await Close(id);

        // Flame's code and words: its SDKs read INVALID_ARGUMENT here.
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id })),
            $"Session {id} is not open");
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = session.Spec })),
            $"Session {id} is not open");

        Assert.Equal(closed, await Get(id));
    }

    [Fact]
    public async Task OpenSession_Fails_WhenIdIsMalformed()
    {
        var app = await Frontend.RegisterAppAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = "", Session = new SessionSpec { Application = app } })),
            "session id is empty");
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = "bad id", Session = new SessionSpec { Application = app } })),
            "session id", "' '");
    }

    [Fact]
    public async Task OpenSession_ReturnsTheSameSession_ToConcurrentOpeners()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = Names.Unique("open-race");
        var spec = new SessionSpec { Application = app };

        var opened = await Wait.For(
            Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
                Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = spec }).ResponseAsync)),
            "16 concurrent OpenSession calls");

        Assert.Single(opened.Select(s => s.Status.CreationTime).Distinct());
        Assert.All(opened, s => Assert.Single(s.Status.Events));
        Assert.Single(await Frontend.ListSessionIdsAsync(), x => x == id);
    }

    // ---------------------------------------------------------------- CloseSession

    [Fact]
    public async Task CloseSession_CancelsThePendingTasks_AndSetsCompletionTime()
    {
        var session = await Frontend.NewSessionAsync();
        var id = session.Metadata.Id;
        for (var i = 0; i < 5; i++)
            await Frontend.NewTaskAsync(id, $"t{i}");
        await Frontend.AssertCountersAsync(id, pending: 5);
        var before = NowMs();

        var closed = await Close(id);
        var after = NowMs();

        Assert.Equal(SessionState.Closed, closed.Status.State);
        Assert.True(closed.Status.HasCompletionTime, "a closed session has a completion_time");
        AssertTimeBetween(before, closed.Status.CompletionTime, after, "completion_time");
        Assert.Equal((0, 5), (closed.Status.Pending, closed.Status.Cancelled));
        Assert.Equal([SessionEventCodes.Created, SessionEventCodes.Closed], closed.Status.Events.Select(e => e.Code));
        Assert.Contains("5", closed.Status.Events[1].Message);
        Assert.Equal(closed, await Frontend.AssertCountersAsync(id, cancelled: 5));
        foreach (var task in await Frontend.ListTasksAsync(id))
        {
            Assert.Equal(TaskState.Cancelled, task.Status.State);
            Assert.True(task.Status.HasCompletionTime);
            Assert.Equal(closed.Status.CompletionTime, task.Status.CompletionTime);
            Assert.Equal([(int)TaskState.Pending, (int)TaskState.Cancelled], task.Status.Events.Select(e => e.Code));
            Assert.Contains("cancelled", task.Status.Events[1].Message);
        }
    }

    [Fact]
    public async Task CloseSession_IsIdempotent()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        var first = await Close(id);

        var second = await Close(id);

        Assert.Equal(first, second); // same completion_time, counters and events: nothing happened twice
        Assert.Equal(first, await Frontend.AssertCountersAsync(id, cancelled: 1));
    }

    [Fact]
    public async Task CloseSession_OfAnEmptySession_ClosesIt()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;

        var closed = await Close(id);

        Assert.Equal(SessionState.Closed, closed.Status.State);
        Assert.True(closed.Status.HasCompletionTime);
        Assert.Contains("0", closed.Status.Events[^1].Message);
        await Frontend.AssertCountersAsync(id);
    }

    [Fact]
    public async Task CloseSession_Fails_WhenSessionIsUnknown()
    {
        var id = Names.Unique("s");

        await AssertFailsAsync(StatusCode.NotFound, () => Close(id), $"session '{id}' not found");

        Assert.DoesNotContain(id, await Frontend.ListSessionIdsAsync());
    }

    [Fact]
    public async Task CloseSession_Fails_WhenIdIsMalformed()
    {
        await AssertFailsAsync(StatusCode.InvalidArgument, () => Close("bad id"), "session id");
        await AssertFailsAsync(StatusCode.InvalidArgument, () => Close(""), "session id is empty");
    }

    // ---------------------------------------------------------------- DeleteSession

    [Fact]
    public async Task DeleteSession_Fails_WhenSessionIsOpen_AndLeavesItAlone()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id, "x");
        var before = await Get(id);

        await AssertFailsAsync(StatusCode.FailedPrecondition,
            Unary(() => Frontend.DeleteSessionAsync(new DeleteSessionRequest { SessionId = id })),
            id, "open");

        Assert.Equal(before, await Get(id));
        await Frontend.AssertCountersAsync(id, pending: 1);
        Assert.Contains(id, await Frontend.ListSessionIdsAsync());
    }

    [Fact]
    public async Task DeleteSession_ReturnsTheClosedSession_ThenItIsGoneEverywhere()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id, "a");
        await Frontend.NewTaskAsync(id, "b");
        var closed = await Close(id);

        var deleted = await Frontend.DeleteSessionAsync(new DeleteSessionRequest { SessionId = id });

        Assert.Equal(closed, deleted);
        Assert.DoesNotContain(id, await Frontend.ListSessionIdsAsync());
        var gone = $"session '{id}' not found";
        await AssertFailsAsync(StatusCode.NotFound, () => Get(id), gone);
        await AssertFailsAsync(StatusCode.NotFound, () => Close(id), gone);
        await AssertFailsAsync(StatusCode.NotFound, Unary(() => Frontend.DeleteSessionAsync(new DeleteSessionRequest { SessionId = id })), gone);
        await AssertFailsAsync(StatusCode.NotFound, Unary(() => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id })), gone);
        await AssertFailsAsync(StatusCode.NotFound, Unary(() => Frontend.GetTaskAsync(new GetTaskRequest { SessionId = id, TaskId = "1" })), gone);
        await AssertFailsAsync(StatusCode.NotFound, Streamed(() => Frontend.ListTask(new ListTaskRequest { SessionId = id })), gone);
        await AssertFailsAsync(StatusCode.NotFound, Streamed(() => Frontend.WatchTask(new WatchTaskRequest { SessionId = id, TaskId = "1" })), gone);
        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = id } })), gone);
    }

    [Fact]
    public async Task DeleteSession_FreesTheId_ForANewSessionThatStartsAfresh()
    {
        var app = await Frontend.RegisterAppAsync();
        var id = (await Frontend.NewSessionAsync(app)).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        await Close(id);
        await Frontend.DeleteSessionAsync(new DeleteSessionRequest { SessionId = id });

        var again = await Frontend.NewSessionAsync(app, id);

        Assert.Equal(SessionState.Open, again.Status.State);
        Assert.Single(again.Status.Events);
        var task = await Frontend.NewTaskAsync(id);
        Assert.Equal("1", task.Metadata.Id);
        await Frontend.AssertCountersAsync(id, pending: 1);
        Assert.Single(await Frontend.ListSessionIdsAsync(), x => x == id);
    }

    [Fact]
    public async Task DeleteSession_Fails_WhenSessionIsUnknownOrItsIdMalformed()
    {
        var id = Names.Unique("s");

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.DeleteSessionAsync(new DeleteSessionRequest { SessionId = id })), id);
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.DeleteSessionAsync(new DeleteSessionRequest { SessionId = "bad id" })), "session id");
    }

    // ---------------------------------------------------------------- GetSession, ListSession

    [Theory]
    [InlineData("", "session id is empty")]
    [InlineData("bad id", "' '")]
    public async Task GetSession_Fails_WhenIdIsMalformed(string id, string mention)
    {
        await AssertFailsAsync(StatusCode.InvalidArgument, () => Get(id), "session id", mention);
    }

    [Fact]
    public async Task GetSession_Fails_WhenIdIsTooLong()
    {
        await AssertFailsAsync(StatusCode.InvalidArgument, () => Get(new string('s', 300)), "session id", "300", "253");
    }

    [Fact]
    public async Task ListSession_ListsSessionsOldestFirst_AsGetSessionShowsThem()
    {
        var app = await Frontend.RegisterAppAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await Frontend.NewSessionAsync(app, Names.Unique($"z{i}"))).Metadata.Id);
        await Frontend.NewTaskAsync(ids[1]);
        await Close(ids[2]);

        var sessions = (await Frontend.ListSessionAsync(new ListSessionRequest())).Sessions;

        var ours = sessions.Where(s => ids.Contains(s.Metadata.Id)).ToList();
        Assert.Equal(ids, ours.Select(s => s.Metadata.Id));
        foreach (var session in ours)
            Assert.Equal(await Get(session.Metadata.Id), session);
        Assert.Equal(sessions.Count, sessions.Select(s => s.Metadata.Id).Distinct().Count());
    }
}
