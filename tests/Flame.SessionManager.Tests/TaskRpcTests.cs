using Flame.SessionManager.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>CreateTask, GetTask, ListTask over gRPC, with the session's counters after every step.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TaskRpcTests(GatewayFixture gateway)
{
    private Frontend.FrontendClient Frontend => gateway.Frontend;

    private Task<Flame.V1.Task> GetTask(string sessionId, string taskId) =>
        Frontend.GetTaskAsync(new GetTaskRequest { SessionId = sessionId, TaskId = taskId }).ResponseAsync;

    // ---------------------------------------------------------------- CreateTask, GetTask

    [Fact]
    public async Task CreateTask_NumbersTasksFromOne_InCreationOrder_AndGetTaskReturnsThem()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        var before = NowMs();

        for (var i = 1; i <= 3; i++)
        {
            var created = await Frontend.NewTaskAsync(id, $"input {i}");
            var after = NowMs();

            Assert.Equal($"{i}", created.Metadata.Id);
            Assert.Equal($"{i}", created.Metadata.Name);
            Assert.Equal(id, created.Spec.SessionId);
            Assert.Equal($"input {i}", created.Spec.Input.ToStringUtf8());
            Assert.False(created.Spec.HasOutput, "a pending task has no output");
            Assert.Equal(TaskState.Pending, created.Status.State);
            AssertTimeBetween(before, created.Status.CreationTime, after, "creation_time");
            Assert.False(created.Status.HasCompletionTime, "a pending task has no completion_time");
            var e = Assert.Single(created.Status.Events);
            Assert.Equal((int)TaskState.Pending, e.Code);
            Assert.Equal(created.Status.CreationTime, e.CreationTime);
            Assert.False(string.IsNullOrEmpty(e.Message), "every event has a readable message");
            Assert.Equal(created, await GetTask(id, $"{i}"));
            await Frontend.AssertCountersAsync(id, pending: i);
        }
    }

    [Fact]
    public async Task CreateTask_KeepsAnUnsetInput_ApartFromAnEmptyOne()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;

        var unset = await Frontend.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = id } });
        var empty = await Frontend.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = id, Input = ByteString.Empty } });

        Assert.False(unset.Spec.HasInput, "no input was given");
        Assert.False((await GetTask(id, unset.Metadata.Id)).Spec.HasInput);
        Assert.True(empty.Spec.HasInput, "an empty input was given, so it must be present");
        Assert.True((await GetTask(id, empty.Metadata.Id)).Spec.HasInput);
        Assert.Equal(0, empty.Spec.Input.Length);
        await Frontend.AssertCountersAsync(id, pending: 2);
    }

    [Fact]
    public async Task CreateTask_Accepts_AnInputOfExactlyTheLimit()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        var input = ByteString.CopyFrom(Enumerable.Range(0, GatewayFixture.MaxTaskInputBytes).Select(i => (byte)(i * 7)).ToArray());

        var created = await Frontend.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = id, Input = input } });

        Assert.Equal(input, (await GetTask(id, created.Metadata.Id)).Spec.Input);
        await Frontend.AssertCountersAsync(id, pending: 1);
    }

    [Fact]
    public async Task CreateTask_Fails_WhenInputIsLargerThanTheLimit_AndCreatesNothing()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id, "first");

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest
            {
                Task = new TaskSpec { SessionId = id, Input = ByteString.CopyFrom(new byte[GatewayFixture.MaxTaskInputBytes + 1]) },
            })),
            "task input", $"{GatewayFixture.MaxTaskInputBytes + 1}", $"{GatewayFixture.MaxTaskInputBytes}", "Flame:Limits:MaxTaskInputBytes");

        await Frontend.AssertCountersAsync(id, pending: 1);
        Assert.Single(await Frontend.ListTasksAsync(id));
        await AssertFailsAsync(StatusCode.NotFound, () => GetTask(id, "2"), "task 2");
        Assert.Equal("2", (await Frontend.NewTaskAsync(id)).Metadata.Id); // no id was used up
    }

    [Fact]
    public async Task CreateTask_IsRefusedByGrpc_WhenInputExceedsTheGatewaysMessageLimit_AndCreatesNothing()
    {
        // Bigger than any Flame limit plus the gateway's room for the message around it: gRPC itself refuses
        // the message before the gateway sees it, with its standard RESOURCE_EXHAUSTED.
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;

        await AssertFailsAsync(StatusCode.ResourceExhausted,
            Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest
            {
                Task = new TaskSpec { SessionId = id, Input = ByteString.CopyFrom(new byte[GatewayFixture.GrpcReceiveLimitBytes + 1]) },
            })));

        await Frontend.AssertCountersAsync(id);
        Assert.Empty(await Frontend.ListTasksAsync(id));
    }

    [Fact]
    public async Task CreateTask_Fails_WhenSessionIsClosed_AndCreatesNothing()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        var closed = await Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = id });

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = id, Input = ByteString.CopyFromUtf8("late") } })),
            id, "closed");

        Assert.Equal(closed, await Frontend.AssertCountersAsync(id, cancelled: 1));
        Assert.Single(await Frontend.ListTasksAsync(id));
    }

    [Fact]
    public async Task CreateTask_Fails_WhenSessionIsUnknown()
    {
        var id = Names.Unique("s");

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = id } })),
            $"session '{id}' not found");

        Assert.DoesNotContain(id, await Frontend.ListSessionIdsAsync());
    }

    [Theory]
    [InlineData("", "session id is empty")]
    [InlineData("bad id", "' '")]
    public async Task CreateTask_Fails_WhenSessionIdIsMalformed(string sessionId, string mention)
    {
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest { Task = new TaskSpec { SessionId = sessionId } })),
            "session id", mention);
    }

    [Fact]
    public async Task CreateTask_Fails_WhenTheRequestHasNoTask()
    {
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest())),
            "task");
    }

    [Fact]
    public async Task CreateTask_AssignsDistinctConsecutiveIds_ToConcurrentCreates()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;

        var created = await Wait.For(
            Task.WhenAll(Enumerable.Range(0, 200).Select(i => Frontend.NewTaskAsync(id, $"{i}"))),
            "200 concurrent CreateTask calls");

        Assert.Equal(Enumerable.Range(1, 200).Select(i => $"{i}"), created.Select(t => t.Metadata.Id).OrderBy(long.Parse));
        await Frontend.AssertCountersAsync(id, pending: 200);
    }

    [Fact]
    public async Task CreateTask_RacingCloseSession_EitherCreatesATaskThatIsCancelled_OrIsRefused_AndBothHappen()
    {
        // A race whose one side never happens proves nothing of that side: rounds go on (a few at most) until some
        // creates won and some lost in the same round.
        const int creates = 300;
        var rounds = new List<string>();
        for (var round = 1; round <= 5; round++)
        {
            var (created, refused) = await RaceCreatesWithCloseAsync(creates);
            rounds.Add($"round {round}: {created} created, {refused} refused");
            if (created > 0 && refused > 0)
                return;
        }
        Assert.Fail($"no round saw both outcomes of CreateTask racing CloseSession: {string.Join("; ", rounds)}");
    }

    /// <summary>One session, <paramref name="creates"/> CreateTask calls and a CloseSession once a third have started; checks each outcome.</summary>
    private async Task<(int Created, int Refused)> RaceCreatesWithCloseAsync(int creates)
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, creates).Select(async i =>
        {
            if (i == creates / 3)
                started.TrySetResult();
            try
            {
                var task = await Frontend.NewTaskAsync(id, $"{i}");
                return (Created: task.Metadata.Id, Refused: (RpcException?)null);
            }
            catch (RpcException ex)
            {
                return (Created: (string?)null, Refused: ex);
            }
        }).ToList();
        await started.Task;

        var closed = await Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = id });
        var outcomes = await Wait.For(Task.WhenAll(attempts), $"{creates} CreateTask calls racing a CloseSession");

        Assert.All(outcomes.Where(o => o.Refused is not null), o =>
        {
            Assert.Equal(StatusCode.InvalidArgument, o.Refused!.StatusCode);
            Assert.Contains("closed", o.Refused.Status.Detail);
        });
        var created = outcomes.Where(o => o.Created is not null).Select(o => long.Parse(o.Created!)).Order().ToList();
        Assert.Equal(Enumerable.Range(1, created.Count).Select(i => (long)i), created); // no holes, no duplicates
        Assert.Equal(created.Count, closed.Status.Cancelled);
        await Frontend.AssertCountersAsync(id, cancelled: created.Count);
        return (created.Count, creates - created.Count);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.5")]
    [InlineData(" 1")]
    [InlineData("99999999999999999999")]
    public async Task GetTask_Fails_WhenTaskIdIsMalformed(string taskId)
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);

        await AssertFailsAsync(StatusCode.InvalidArgument, () => GetTask(id, taskId), $"task id '{taskId}' is malformed");
    }

    [Fact]
    public async Task GetTask_Fails_WhenTaskIdIsEmpty()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;

        await AssertFailsAsync(StatusCode.InvalidArgument, () => GetTask(id, ""), "task id is empty");
    }

    [Fact]
    public async Task GetTask_Fails_WhenTaskIsUnknown_EvenIfAnotherSessionHasIt()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        var other = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        await Frontend.NewTaskAsync(other);
        await Frontend.NewTaskAsync(other);

        await AssertFailsAsync(StatusCode.NotFound, () => GetTask(id, "2"), "task 2", id);
        await AssertFailsAsync(StatusCode.NotFound, () => GetTask(id, "12345"), "task 12345", id);
    }

    [Fact]
    public async Task GetTask_Fails_WhenSessionIsUnknownOrMalformed()
    {
        var id = Names.Unique("s");

        await AssertFailsAsync(StatusCode.NotFound, () => GetTask(id, "1"), $"session '{id}' not found");
        await AssertFailsAsync(StatusCode.InvalidArgument, () => GetTask("bad id", "1"), "session id");
        await AssertFailsAsync(StatusCode.InvalidArgument, () => GetTask("", "1"), "session id is empty");
    }

    // ---------------------------------------------------------------- ListTask

    [Fact]
    public async Task ListTask_StreamsEveryTaskInIdOrder_ThenEnds_WithThousandsOfTasks()
    {
        const int count = 2_500;
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        var inputs = new string[count + 1];
        // Created concurrently (a few at a time): ids must still be 1..count, each with its own input.
        using var gate = new SemaphoreSlim(32);
        await Wait.For(Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var task = await Frontend.NewTaskAsync(id, $"input-{i}");
                inputs[int.Parse(task.Metadata.Id)] = $"input-{i}";
            }
            finally
            {
                gate.Release();
            }
        })), $"{count} CreateTask calls");

        var listed = await Frontend.ListTasksAsync(id);

        Assert.Equal(Enumerable.Range(1, count).Select(i => $"{i}"), listed.Select(t => t.Metadata.Id));
        for (var i = 1; i <= count; i++)
        {
            var task = listed[i - 1];
            Assert.Equal(inputs[i], task.Spec.Input.ToStringUtf8());
            Assert.Equal(id, task.Spec.SessionId);
            Assert.Equal(TaskState.Pending, task.Status.State);
        }
        await Frontend.AssertCountersAsync(id, pending: count);

        await Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = id });

        var afterClose = await Frontend.ListTasksAsync(id);
        Assert.Equal(count, afterClose.Count);
        Assert.All(afterClose, t => Assert.Equal(TaskState.Cancelled, t.Status.State));
        await Frontend.AssertCountersAsync(id, cancelled: count);
    }

    [Fact]
    public async Task ListTask_ShowsEachTaskAsGetTaskDoes()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id, "a");
        await Frontend.NewTaskAsync(id);
        await Frontend.NewTaskAsync(id, "");

        foreach (var task in await Frontend.ListTasksAsync(id))
            Assert.Equal(await GetTask(id, task.Metadata.Id), task);
    }

    [Fact]
    public async Task ListTask_EndsAtOnce_ForASessionWithoutTasks()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        using var call = Frontend.ListTask(new ListTaskRequest { SessionId = id });

        await call.ResponseStream.AssertEndsAsync("no tasks");

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ListTask_Fails_WhenSessionIsUnknownOrMalformed()
    {
        var id = Names.Unique("s");

        await AssertFailsAsync(StatusCode.NotFound,
            Streamed(() => Frontend.ListTask(new ListTaskRequest { SessionId = id })), $"session '{id}' not found");
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Streamed(() => Frontend.ListTask(new ListTaskRequest { SessionId = "bad id" })), "session id");
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Streamed(() => Frontend.ListTask(new ListTaskRequest())), "session id is empty");
    }
}
