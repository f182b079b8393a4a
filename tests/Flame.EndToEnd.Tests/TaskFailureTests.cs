using Flame.Client;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests;

/// <summary>
/// Tasks that fail (an error result, a crash of the service, a task that never returns) among tasks that succeed:
/// a task whose service crashed or hung is tried <see cref="ClusterFixture.MaxTaskAttempts"/> times and then Failed
/// with a readable last event; one that the service answered with an error is Failed at once, as in Flame; the other
/// tasks are not disturbed and the executors go on running tasks.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TaskFailureTests(ClusterFixture fixture)
{
    private const int Attempts = ClusterFixture.MaxTaskAttempts;

    private readonly FlameCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task ServiceCrash_FailsThatTaskAfterEveryAttempt_AndLaterTasksStillRun()
    {
        var (app, session, badTask) = await RunAroundAsync("crash", "crash");

        var failed = badTask.LastMessage();
        Assert.Contains($"attempt {Attempts} of {Attempts} failed", failed);
        Assert.Contains("exited with code 42", failed);
        Assert.Equal(Attempts, badTask.Events.Count(e => e.Code == (int)TaskState.Running));
        Assert.Equal(Attempts, app.Calls().Count(c => c == $"invoke {badTask.Id}"));

        await AssertExecutorsStillRunTasksAsync(session);
    }

    [Fact]
    public async Task TaskError_FailsThatTaskAtOnce_WithTheServiceMessageVerbatim()
    {
        var message = $"no good {Guid.NewGuid():N}";
        var (app, session, badTask) = await RunAroundAsync("fail", $"fail:{message}");

        // As Flame: a service's error result is the application's answer, not a fault of the system to retry.
        Assert.Equal(message, badTask.LastMessage());
        Assert.Equal(1, badTask.Events.Count(e => e.Code == (int)TaskState.Running));
        Assert.Single(badTask.Events, e => e.Code == (int)TaskState.Pending);
        Assert.Equal(1, app.Calls().Count(c => c == $"invoke {badTask.Id}"));

        await AssertExecutorsStillRunTasksAsync(session);
    }

    [Fact]
    public async Task HangingTask_TimesOutAfterEveryAttempt_AndLaterTasksStillRun()
    {
        var (app, session, badTask) = await RunAroundAsync("hang", "hang");

        var failed = badTask.LastMessage();
        Assert.Contains($"attempt {Attempts} of {Attempts} failed", failed);
        Assert.Contains($"timed out after {ClusterFixture.TaskTimeout.TotalSeconds:0}s", failed);
        Assert.Equal(Attempts, badTask.Events.Count(e => e.Code == (int)TaskState.Running));
        Assert.Equal(Attempts, app.Calls().Count(c => c == $"invoke {badTask.Id}"));

        await AssertExecutorsStillRunTasksAsync(session);
    }

    /// <summary>
    /// Runs 40 echo tasks, then <paramref name="badInput"/>, then 3 echo tasks with 1 MiB inputs and 20 more echo
    /// tasks; checks that the bad task is Failed and every other one succeeded with its output, once, with no failed
    /// attempt; returns the bad task.
    /// </summary>
    private async Task<(TestApplication App, SessionInfo Session, TaskInfo BadTask)> RunAroundAsync(string purpose, string badInput)
    {
        var client = _cluster.Client;
        var app = await _cluster.RegisterTestApplicationAsync(purpose);
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        // Enough short tasks before it that the executors hold tasks ahead (and send the next one to the service
        // behind the running one) when the bad one comes. Right behind it, inputs (and so outputs) larger than an HTTP/2
        // stream's window: written to a service behind a running task, such a write would block until the service
        // reads it, and the read of a large result with it.
        var inputs = Enumerable.Range(1, 40).Select(i => $"echo:{i}")
            .Append(badInput)
            .Concat(Enumerable.Range(41, 3).Select(i => $"echo:{i}:" + new string('x', 1 << 20)))
            .Concat(Enumerable.Range(44, 20).Select(i => $"echo:{i}"))
            .ToList();
        var created = await client.CreateTasksAsync(session.Id, inputs);
        // The bad task is watched through its retries: the watch must end with its final state.
        var watch = WatchToTheEndAsync(client, session.Id, created[inputs.IndexOf(badInput)].Id);
        await _cluster.WaitUntilAllTerminalAsync(session.Id, inputs.Count);

        var tasks = await client.CheckTasksAsync(session.Id, inputs.Count);
        var badTask = tasks[inputs.IndexOf(badInput)];
        var watched = await watch.WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(10)));
        Assert.True(watched[^1].State == TaskState.Failed && watched[^1].Events.Count == badTask.Events.Count,
            $"the watch of task {badTask.Id} should end with its final state, ended with {watched[^1].State}: {Describe(watched[^1].Events)}");
        Assert.True(badTask.State == TaskState.Failed, $"task {badTask.Id} ({badInput}) should be Failed, is {badTask.State}: {Describe(badTask.Events)}");
        foreach (var task in tasks.Where(t => t.Id != badTask.Id))
        {
            var input = inputs[(int)task.Id - 1];
            var shown = input.Length > 64 ? $"{input[..64]}... ({input.Length} characters)" : input;
            Assert.True(task.State == TaskState.Succeed && Text(task.Output) == input["echo:".Length..],
                $"task {task.Id} ({shown}) should have succeeded with its text, is {task.State} with {Text(task.Output).Length} characters: {Describe(task.Events)}");
            // A task held behind the bad one (in the executor's window, or already on the service's stream) did not
            // start when the service died or was killed: it went back unstarted, costing no attempt, and ran once.
            Assert.False(task.Events.Any(e => e.Message is { } m && m.Contains("attempt", StringComparison.Ordinal)),
                $"task {task.Id} ({shown}) should have had no failed attempt: {Describe(task.Events)}");
            Assert.Equal(1, app.Calls().Count(c => c == $"invoke {task.Id}"));
        }
        return (app, session, badTask);
    }

    private static async Task<IReadOnlyList<TaskInfo>> WatchToTheEndAsync(IFlameClient client, string sessionId, long taskId)
    {
        var seen = new List<TaskInfo>();
        await foreach (var task in client.WatchTaskAsync(sessionId, taskId))
            seen.Add(task);
        Assert.NotEmpty(seen);
        return seen;
    }

    /// <summary>Tasks created after the failure still run to success in the same session.</summary>
    private async Task AssertExecutorsStillRunTasksAsync(SessionInfo session)
    {
        var client = _cluster.Client;
        var before = (await client.GetSessionAsync(session.Id)).Status;
        var done = before.Succeed + before.Failed + before.Cancelled;
        var later = await client.CreateTasksAsync(session.Id, Enumerable.Range(1, 4).Select(i => $"echo:later-{i}"));
        await _cluster.WaitUntilAllTerminalAsync(session.Id, done + later.Count);
        var tasks = await client.CheckTasksAsync(session.Id, done + later.Count);
        foreach (var task in later)
        {
            var ended = tasks[(int)task.Id - 1];
            Assert.True(ended.State == TaskState.Succeed && Text(ended.Output) == Text(task.Input)["echo:".Length..],
                $"task {task.Id} created after the failure should have succeeded, is {ended.State}: {Describe(ended.Events)}");
        }
        await client.CloseSessionAsync(session.Id);
    }
}
