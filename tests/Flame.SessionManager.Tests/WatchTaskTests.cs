using Flame.SessionManager.Tests.Support;
using Grpc.Core;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// WatchTask over gRPC: the current state at once, one message per change, the end after a terminal state,
/// and many watchers at once. Without executors the one terminal state reachable is Cancelled (by CloseSession).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class WatchTaskTests(GatewayFixture gateway)
{
    private Frontend.FrontendClient Frontend => gateway.Frontend;

    private AsyncServerStreamingCall<Flame.V1.Task> Watch(string sessionId, string taskId, CancellationToken cancellationToken = default) =>
        Frontend.WatchTask(new WatchTaskRequest { SessionId = sessionId, TaskId = taskId }, cancellationToken: cancellationToken);

    private Task<Session> Close(string sessionId) =>
        Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = sessionId }).ResponseAsync;

    private Task<Flame.V1.Task> GetTask(string sessionId, string taskId) =>
        Frontend.GetTaskAsync(new GetTaskRequest { SessionId = sessionId, TaskId = taskId }).ResponseAsync;

    [Fact]
    public async Task WatchTask_SendsTheCurrentStateAtOnce_ThenTheChange_ThenEnds()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        var created = await Frontend.NewTaskAsync(id, "watched");
        using var watch = Watch(id, "1");

        var first = await watch.ResponseStream.NextAsync("the task's current state (Pending) at once");
        Assert.Equal(created, first);

        await Close(id);

        var second = await watch.ResponseStream.NextAsync("the task's change to Cancelled");
        Assert.Equal(TaskState.Cancelled, second.Status.State);
        Assert.Equal(await GetTask(id, "1"), second);
        Assert.Equal([(int)TaskState.Pending, (int)TaskState.Cancelled], second.Status.Events.Select(e => e.Code));
        await watch.ResponseStream.AssertEndsAsync("the terminal state Cancelled");
        Assert.Equal(StatusCode.OK, watch.GetStatus().StatusCode);
    }

    [Fact]
    public async Task WatchTask_OfAFinishedTask_SendsTheFinalState_AndEnds()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        await Close(id);
        using var watch = Watch(id, "1");

        var only = await watch.ResponseStream.NextAsync("the final state of a finished task");

        Assert.Equal(TaskState.Cancelled, only.Status.State);
        Assert.Equal(await GetTask(id, "1"), only);
        await watch.ResponseStream.AssertEndsAsync("the final state");
    }

    [Fact]
    public async Task WatchTask_SendsOnlyItsOwnTask_WhenOtherTasksAndSessionsChange()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        var otherSession = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        await Frontend.NewTaskAsync(id);
        await Frontend.NewTaskAsync(otherSession);
        using var watch = Watch(id, "2");
        using var otherWatch = Watch(otherSession, "1");
        Assert.Equal("2", (await watch.ResponseStream.NextAsync("task 2 Pending")).Metadata.Id);
        Assert.Equal(otherSession, (await otherWatch.ResponseStream.NextAsync("the other session's task Pending")).Spec.SessionId);

        await Close(otherSession);
        var otherCancelled = await otherWatch.ResponseStream.NextAsync("the other session's task Cancelled");
        Assert.Equal(otherSession, otherCancelled.Spec.SessionId);
        await Close(id);

        var next = await watch.ResponseStream.NextAsync("task 2 Cancelled, after its own session was closed");
        Assert.Equal((id, "2", TaskState.Cancelled), (next.Spec.SessionId, next.Metadata.Id, next.Status.State));
        await watch.ResponseStream.AssertEndsAsync("task 2 Cancelled");
    }

    [Fact]
    public async Task WatchTask_DeliversEveryStateToTwoHundredWatchersOfOneTask()
    {
        const int watchers = 200;
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        var calls = Enumerable.Range(0, watchers).Select(_ => Watch(id, "1")).ToList();
        try
        {
            var firsts = await Wait.For(
                Task.WhenAll(calls.Select(c => c.ResponseStream.NextAsync("Pending"))), $"{watchers} watchers to get Pending");
            Assert.All(firsts, t => Assert.Equal(TaskState.Pending, t.Status.State));

            await Close(id);

            var lasts = await Wait.For(
                Task.WhenAll(calls.Select(async c =>
                {
                    var last = await c.ResponseStream.NextAsync("Cancelled");
                    await c.ResponseStream.AssertEndsAsync("Cancelled");
                    return last;
                })),
                $"{watchers} watchers to get Cancelled and end");
            var expected = await GetTask(id, "1");
            Assert.All(lasts, t => Assert.Equal(expected, t));
        }
        finally
        {
            calls.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task WatchTask_DeliversTheTerminalStateToTwoWatchersOfEachOfFiveHundredTasks()
    {
        const int tasks = 500;
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        for (var i = 0; i < tasks; i++)
            await Frontend.NewTaskAsync(id);
        var calls = Enumerable.Range(1, tasks)
            .SelectMany(t => new[] { (Task: $"{t}", Call: Watch(id, $"{t}")), (Task: $"{t}", Call: Watch(id, $"{t}")) })
            .ToList();
        try
        {
            await Wait.For(Task.WhenAll(calls.Select(async c =>
            {
                var first = await c.Call.ResponseStream.NextAsync($"task {c.Task} Pending");
                Assert.Equal((c.Task, TaskState.Pending), (first.Metadata.Id, first.Status.State));
            })), $"{calls.Count} watchers to get Pending");

            await Close(id);

            await Wait.For(Task.WhenAll(calls.Select(async c =>
            {
                var last = await c.Call.ResponseStream.NextAsync($"task {c.Task} Cancelled");
                Assert.Equal((c.Task, TaskState.Cancelled), (last.Metadata.Id, last.Status.State));
                await c.Call.ResponseStream.AssertEndsAsync($"task {c.Task} Cancelled");
            })), $"{calls.Count} watchers to get Cancelled and end");
            await Frontend.AssertCountersAsync(id, cancelled: tasks);
        }
        finally
        {
            calls.ForEach(c => c.Call.Dispose());
        }
    }

    [Fact]
    public async Task WatchTask_CancelledByItsClient_DoesNotDisturbTheOtherWatchersOfTheTask()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        using var leaving = new CancellationTokenSource();
        using var cancelled = Watch(id, "1", leaving.Token);
        using var staying = Watch(id, "1");
        await cancelled.ResponseStream.NextAsync("Pending for the watch that will be cancelled");
        await staying.ResponseStream.NextAsync("Pending for the watch that stays");

        leaving.Cancel();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => cancelled.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True(error is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled },
            $"a cancelled watch ends as cancelled, not with {error}");
        using var late = Watch(id, "1");
        Assert.Equal(TaskState.Pending, (await late.ResponseStream.NextAsync("Pending for a watch opened after the cancel")).Status.State);

        await Close(id);

        foreach (var (name, call) in new[] { ("staying", staying), ("late", late) })
        {
            Assert.Equal(TaskState.Cancelled, (await call.ResponseStream.NextAsync($"Cancelled for the {name} watch")).Status.State);
            await call.ResponseStream.AssertEndsAsync($"Cancelled for the {name} watch");
        }
    }

    [Fact]
    public async Task WatchTask_CancelledByAllItsClients_IsForgottenByTheGateway_AndCanBeWatchedAgain()
    {
        var hub = gateway.GatewayWatchHub;
        var baseline = hub.WatchedTaskCount;
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);
        using (var leaving = new CancellationTokenSource())
        {
            var calls = Enumerable.Range(0, 5).Select(_ => Watch(id, "1", leaving.Token)).ToList();
            await Wait.For(Task.WhenAll(calls.Select(c => c.ResponseStream.NextAsync("Pending"))), "5 watchers to get Pending");
            Assert.True(hub.WatchedTaskCount >= 1, "the gateway watches the task while it has watchers");

            leaving.Cancel();
            calls.ForEach(c => c.Dispose());
        }

        // The gateway's bookkeeping offers no event to wait on; it must return to where it was.
        await Wait.UntilAsync(() => hub.WatchedTaskCount <= baseline,
            $"the gateway to forget the cancelled watches (back to at most {baseline} watched tasks)",
            seen: () => $"{hub.WatchedTaskCount} watched tasks");

        using var again = Watch(id, "1");
        Assert.Equal(TaskState.Pending, (await again.ResponseStream.NextAsync("Pending for a new watch")).Status.State);
        await Close(id);
        Assert.Equal(TaskState.Cancelled, (await again.ResponseStream.NextAsync("Cancelled for the new watch")).Status.State);
        await again.ResponseStream.AssertEndsAsync("Cancelled");
        await Wait.UntilAsync(() => hub.WatchedTaskCount <= baseline,
            $"the gateway to forget the finished watch (back to at most {baseline} watched tasks)",
            seen: () => $"{hub.WatchedTaskCount} watched tasks");
    }

    [Fact]
    public async Task WatchTask_Fails_WhenTaskIsUnknown()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);

        await AssertFailsAsync(StatusCode.NotFound, Streamed(() => Watch(id, "2")), "task 2", id);
    }

    [Fact]
    public async Task WatchTask_Fails_WhenSessionIsUnknown()
    {
        var id = Names.Unique("s");

        await AssertFailsAsync(StatusCode.NotFound, Streamed(() => Watch(id, "1")), $"session '{id}' not found");
    }

    [Theory]
    [InlineData("abc", "task id 'abc' is malformed")]
    [InlineData("0", "task id '0' is malformed")]
    [InlineData("-1", "task id '-1' is malformed")]
    [InlineData("", "task id is empty")]
    public async Task WatchTask_Fails_WhenTaskIdIsMalformed(string taskId, string mention)
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await Frontend.NewTaskAsync(id);

        await AssertFailsAsync(StatusCode.InvalidArgument, Streamed(() => Watch(id, taskId)), mention);
    }

    [Theory]
    [InlineData("", "session id is empty")]
    [InlineData("bad id", "' '")]
    public async Task WatchTask_Fails_WhenSessionIdIsMalformed(string sessionId, string mention)
    {
        await AssertFailsAsync(StatusCode.InvalidArgument, Streamed(() => Watch(sessionId, "1")), "session id", mention);
    }
}
