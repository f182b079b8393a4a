using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>A session closed while some of its tasks run and others wait.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SessionCloseTests(ClusterFixture fixture)
{
    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task ClosingASession_LetsRunningTasksFinish_CancelsPendingOnes_AndRefusesNewTasks()
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync("close");
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        const int Total = 12;
        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, Total).Select(_ => "sleep:500"));

        SessionInfo? seen = null;
        await _cluster.UntilAsync(
            async () => (seen = await client.GetSessionAsync(session.Id)).Status.Running > 0,
            "a running task",
            TasksTimeout,
            () => Task.FromResult(Describe(seen)));

        var closed = await client.CloseSessionAsync(session.Id);
        Assert.Equal(SessionState.Closed, closed.Status.State);
        Assert.NotNull(closed.Status.CompletionTime);
        Assert.True(closed.Status.Pending == 0 && closed.Status.Running > 0 && closed.Status.Cancelled > 0,
            $"at the close, running tasks should be left running and pending ones cancelled: {Describe(closed)}");
        Assert.Equal(Total, closed.Status.Running + closed.Status.Succeed + closed.Status.Cancelled);

        var refused = await Assert.ThrowsAsync<FlameException>(() => client.CreateTaskAsync(session.Id, Utf8("echo:late")));
        Assert.Equal(FlameErrorKind.InvalidArgument, refused.Kind);

        var final = await _cluster.WaitUntilAllTerminalAsync(session.Id, Total);
        Assert.Equal(closed.Status.Succeed + closed.Status.Running, final.Status.Succeed);
        Assert.Equal(closed.Status.Cancelled, final.Status.Cancelled);
        Assert.Equal(0, final.Status.Failed);

        var tasks = await client.CheckTasksAsync(session.Id, Total);
        foreach (var task in tasks)
        {
            if (task.State == TaskState.Succeed)
            {
                Assert.Equal("slept", Text(task.Output));
            }
            else
            {
                Assert.True(task.State == TaskState.Cancelled, $"task {task.Id} should be Succeed or Cancelled, is {task.State}: {Describe(task.Events)}");
                Assert.DoesNotContain(task.Events, e => e.Code == (int)TaskState.Running);
                Assert.Contains("session was closed", task.LastMessage());
            }
        }
        // No task was started after the close: only the running ones were ever invoked.
        Assert.Equal(final.Status.Succeed, app.Calls().Count(c => c.StartsWith("invoke ", StringComparison.Ordinal)));
    }
}
