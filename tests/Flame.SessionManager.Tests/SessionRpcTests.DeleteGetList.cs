using Flame.SessionManager.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

// DeleteSession, GetSession and ListSession.
public sealed partial class SessionRpcTests
{
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
