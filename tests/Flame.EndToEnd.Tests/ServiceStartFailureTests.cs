using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Services that cannot enter a session (their OnSessionEnter fails, their command does not exist, or the application
/// has none) or the node does not allow it, as in Flame: each failed binding is session event 1001 in Flame's words; after
/// <see cref="ClusterFixture.MaxBindingFailures"/> of them the session gets event 1002 and no more executors, and its
/// tasks stay Pending until it is closed (which cancels them).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServiceStartFailureTests(ClusterFixture fixture)
{
    private const int Failures = ClusterFixture.MaxBindingFailures;

    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task ServiceWhoseEnterFails_PausesTheSession_AfterTheBindingFailures()
    {
        var app = await _cluster.RegisterTestApplicationAsync("enter-fails", new Dictionary<string, string> { ["FLAME_TEST_SERVICE_FAIL_ENTER"] = "1" });

        var session = await RunUntilPausedAsync(app.Name, 12, "on_session_enter failed: ", "OnSessionEnter failed on purpose (FLAME_TEST_SERVICE_FAIL_ENTER=1)");

        // Each failed binding was a real service process that was called once and never got a task.
        var calls = app.Calls();
        Assert.True(calls.Count(c => c.StartsWith($"enter {session.Id} ", StringComparison.Ordinal)) >= Failures,
            $"expected at least {Failures} OnSessionEnter calls, saw: {string.Join(", ", calls)}");
        Assert.DoesNotContain(calls, c => c.StartsWith("invoke ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServiceWhoseCommandDoesNotExist_PausesTheSession_AfterTheBindingFailures()
    {
        // In a directory the nodes allow: the node lets it through, and starting it fails.
        var missing = Path.Combine(AppContext.BaseDirectory, "no-such-service");
        var app = await _cluster.RegisterTestApplicationAsync("no-command", command: missing);

        await RunUntilPausedAsync(app.Name, 11, "shim creation failed: ", missing);
    }

    [Fact]
    public async Task ServiceWhoseCommandTheNodeDoesNotAllow_IsRefusedByTheNode_WithABindingFailureThatSaysWhy()
    {
        // The gateway accepts any command; the node is the last guard and runs only what its configuration allows.
        var app = await _cluster.RegisterTestApplicationAsync("not-allowed", command: "/bin/sh");

        await RunUntilPausedAsync(app.Name, 11, "command /bin/sh is not allowed on node em-");

        // The node says so in its own log too, and no service of the application ever ran.
        Assert.NotEmpty(_cluster.ExecutorManagerLinesContaining("is not in Flame:ExecutorManager:AllowedCommands"));
        Assert.Empty(app.Calls());
    }

    [Fact]
    public async Task ApplicationWithoutCommand_IsAccepted_AndItsSessionIsPausedWithFlamesEvents()
    {
        var name = $"commandless-{Guid.NewGuid().ToString("N")[..8]}";
        await _cluster.Client.RegisterApplicationAsync(name, new ApplicationSpec { Shim = Shim.Host, DelayRelease = 1 });

        await RunUntilPausedAsync(name, 11, "shim creation failed: failed to start service by command <>");
    }

    /// <summary>
    /// Opens a session of <paramref name="application"/> with four tasks and waits for event 1002; checks Flame's 1001
    /// texts (return code <paramref name="returnCode"/>, each of <paramref name="mentions"/>), that every task is still
    /// Pending, and that closing the session cancels them.
    /// </summary>
    private async Task<SessionInfo> RunUntilPausedAsync(string application, int returnCode, params string[] mentions)
    {
        var client = _cluster.Client;
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = application });
        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, 4).Select(i => (byte[]?)Utf8($"echo:{i}")).ToList());

        IReadOnlyList<FlameEvent> events = [];
        await _cluster.UntilAsync(
            async () =>
            {
                events = (await client.GetSessionAsync(session.Id)).Status.Events;
                return events.Any(e => e.Code == SessionEventCodes.RetryLimitReached);
            },
            $"session event {SessionEventCodes.RetryLimitReached} after {Failures} binding failures", TimeSpan.FromSeconds(60),
            () => Task.FromResult(DescribeSessionEvents(events)));

        var failures = events.Where(e => e.Code == SessionEventCodes.BindingFailed).ToList();
        Assert.True(failures.Count >= Failures, $"expected at least {Failures} binding failures among the session events: {DescribeSessionEvents(events)}");
        Assert.All(failures, e =>
        {
            Assert.Matches($"^Executor <[^>]+> on node <[^>]+> failed to bind session with return_code <{returnCode}>: ", e.Message);
            foreach (var mention in mentions)
                Assert.Contains(mention, e.Message);
        });
        var limit = Assert.Single(events, e => e.Code == SessionEventCodes.RetryLimitReached);
        Assert.StartsWith($"Session retry limit reached after {Failures}/{Failures} failed attempts; new executor assignment is paused", limit.Message);

        // Flame keeps the tasks: none failed, none ran.
        var status = (await client.GetSessionAsync(session.Id)).Status;
        Assert.True(status is { Pending: 4, Running: 0, Failed: 0, Succeed: 0 },
            $"the four tasks should still be Pending: {status.Pending} pending, {status.Running} running, {status.Failed} failed");
        var closed = await client.CloseSessionAsync(session.Id);
        Assert.Equal(4, closed.Status.Cancelled);
        return session;
    }

    private static string DescribeSessionEvents(IEnumerable<FlameEvent> events) => string.Join(" | ", events.Select(e => $"{e.Code} {e.Message}"));
}
