using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Services that cannot enter a session (their OnSessionEnter fails, their command does not exist or the node does not
/// allow it): after
/// <see cref="ClusterFixture.MaxBindingFailures"/> failed bindings in a row the pending tasks are Failed with a
/// readable event, and nothing stays Pending or Running.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServiceStartFailureTests(ClusterFixture fixture)
{
    private const int Failures = ClusterFixture.MaxBindingFailures;

    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task ServiceWhoseEnterFails_FailsThePendingTasks_AfterTheBindingFailures()
    {
        var app = await _cluster.RegisterTestApplicationAsync("enter-fails", new Dictionary<string, string> { ["FLAME_TEST_SERVICE_FAIL_ENTER"] = "1" });

        var session = await RunUntilFailedAsync(app, "OnSessionEnter failed on purpose (FLAME_TEST_SERVICE_FAIL_ENTER=1)");

        // Each failed binding was a real service process that was called once and never got a task.
        var calls = app.Calls();
        Assert.True(calls.Count(c => c.StartsWith($"enter {session.Id} ", StringComparison.Ordinal)) >= Failures,
            $"expected at least {Failures} OnSessionEnter calls, saw: {string.Join(", ", calls)}");
        Assert.DoesNotContain(calls, c => c.StartsWith("invoke ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServiceWhoseCommandDoesNotExist_FailsThePendingTasks_AfterTheBindingFailures()
    {
        // In a directory the nodes allow: the node lets it through, and starting it fails.
        var missing = Path.Combine(AppContext.BaseDirectory, "no-such-service");
        var app = await _cluster.RegisterTestApplicationAsync("no-command", command: missing);

        await RunUntilFailedAsync(app, "service failed to start");
    }

    [Fact]
    public async Task ServiceWhoseCommandTheNodeDoesNotAllow_IsRefusedByTheNode_WithABindingFailureThatSaysWhy()
    {
        // The gateway accepts any command; the node is the last guard and runs only what its configuration allows.
        var app = await _cluster.RegisterTestApplicationAsync("not-allowed", command: "/bin/sh");

        await RunUntilFailedAsync(app, "command /bin/sh is not allowed on node em-");

        // The node says so in its own log too, and no service of the application ever ran.
        Assert.NotEmpty(_cluster.ExecutorManagerLinesContaining("is not in Flame:ExecutorManager:AllowedCommands"));
        Assert.Empty(app.Calls());
    }

    private async Task<SessionInfo> RunUntilFailedAsync(TestApplication app, string reason)
    {
        var client = _cluster.Client;
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        // In one call: the four are pending together when the binding failures fail the pending tasks.
        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, 4).Select(i => (byte[]?)Utf8($"echo:{i}")).ToList());
        await _cluster.WaitUntilAllTerminalAsync(session.Id, 4);

        var tasks = await client.CheckTasksAsync(session.Id, 4);
        foreach (var task in tasks)
        {
            Assert.True(task.State == TaskState.Failed, $"task {task.Id} should be Failed, is {task.State}: {Describe(task.Events)}");
            Assert.Contains($"could not enter the session {Failures} times in a row", task.LastMessage());
            Assert.Contains(reason, task.LastMessage());
        }
        var events = (await client.GetSessionAsync(session.Id)).Status.Events;
        Assert.True(events.Count(e => e.Code == SessionEventCodes.BindingFailed) >= Failures,
            $"expected at least {Failures} binding failures among the session events: {DescribeSessionEvents(events)}");
        Assert.All(events.Where(e => e.Code == SessionEventCodes.BindingFailed), e => Assert.Contains(reason, e.Message));
        Assert.Single(events, e => e.Code == SessionEventCodes.PendingTasksFailed);

        // The session is not stuck: a task created now fails the same way instead of waiting forever.
        await client.CreateTaskAsync(session.Id, Utf8("echo:again"));
        await _cluster.WaitUntilAllTerminalAsync(session.Id, 5);
        var again = (await client.CheckTasksAsync(session.Id, 5))[^1];
        Assert.True(again.State == TaskState.Failed, $"the task created after the failure should be Failed, is {again.State}: {Describe(again.Events)}");
        Assert.Contains(reason, again.LastMessage());
        await client.CloseSessionAsync(session.Id);
        return session;
    }

    private static string DescribeSessionEvents(IEnumerable<FlameEvent> events) => string.Join(" | ", events.Select(e => $"{e.Code} {e.Message}"));
}
