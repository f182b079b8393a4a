using Flame.SessionManager.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

// OpenSession and CloseSession.
public sealed partial class SessionRpcTests
{
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
}
