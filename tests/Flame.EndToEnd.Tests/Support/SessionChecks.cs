using System.Text;
using Flame.Client;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>Creating tasks, waiting for them to end, and the checks every scenario makes on the result.</summary>
public static class SessionChecks
{
    /// <summary>How long the tasks of one scenario may take to end: generous, the machine is small and shared.</summary>
    public static readonly TimeSpan TasksTimeout = TimeSpan.FromSeconds(90);

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(byte[]? bytes) => bytes is null ? "<null>" : Encoding.UTF8.GetString(bytes);

    /// <summary>Creates one task per input, in order (so task ids follow the inputs), and returns them.</summary>
    public static async Task<IReadOnlyList<TaskInfo>> CreateTasksAsync(this IFlameClient client, string sessionId, IEnumerable<string> inputs)
    {
        var created = new List<TaskInfo>();
        foreach (var input in inputs)
        {
            var task = await client.CreateTaskAsync(sessionId, Utf8(input));
            Assert.Equal(TaskState.Pending, task.State);
            created.Add(task);
        }
        return created;
    }

    /// <summary>Polls the session's counters until no task is Pending or Running and <paramref name="total"/> tasks are terminal.</summary>
    public static async Task<SessionInfo> WaitUntilAllTerminalAsync(this FlameCluster cluster, string sessionId, int total, TimeSpan? timeout = null)
    {
        SessionInfo? last = null;
        await cluster.UntilAsync(
            async () =>
            {
                last = await cluster.Client.GetSessionAsync(sessionId);
                var s = last.Status;
                return s.Pending == 0 && s.Running == 0 && s.Succeed + s.Failed + s.Cancelled == total;
            },
            $"all {total} tasks of session {sessionId} to be terminal (pending 0, running 0)",
            timeout ?? TasksTimeout,
            () => Task.FromResult(Describe(last)));
        return last!;
    }

    /// <summary>
    /// Lists the session's tasks and checks what every scenario needs: exactly <paramref name="total"/> tasks with ids
    /// 1…total, each in a terminal state reached exactly once (one terminal event, the last one, matching the
    /// state), and the session's counters equal to the number of tasks in each state.
    /// </summary>
    public static async Task<IReadOnlyList<TaskInfo>> CheckTasksAsync(this IFlameClient client, string sessionId, int total)
    {
        var tasks = new List<TaskInfo>();
        await foreach (var task in client.ListTasksAsync(sessionId))
            tasks.Add(task);
        var session = await client.GetSessionAsync(sessionId);

        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), tasks.Select(t => t.Id));
        foreach (var task in tasks)
        {
            Assert.True(task.State.IsTerminal(), $"task {task.Id} is {task.State}, expected a terminal state; events: {Describe(task.Events)}");
            var terminalEvents = task.Events.Where(e => ((TaskState)e.Code).IsTerminal()).ToList();
            Assert.True(terminalEvents.Count == 1 && ReferenceEquals(terminalEvents[0], task.Events[^1]),
                $"task {task.Id} should have exactly one terminal event, the last; events: {Describe(task.Events)}");
            Assert.Equal((int)task.State, task.Events[^1].Code);
            Assert.Equal((int)TaskState.Pending, task.Events[0].Code);
            Assert.NotNull(task.CompletionTime);
        }

        var counted = Enum.GetValues<TaskState>().ToDictionary(s => s, s => tasks.Count(t => t.State == s));
        var status = session.Status;
        Assert.True(
            status.Pending == counted[TaskState.Pending] && status.Running == counted[TaskState.Running]
            && status.Succeed == counted[TaskState.Succeed] && status.Failed == counted[TaskState.Failed]
            && status.Cancelled == counted[TaskState.Cancelled],
            $"the counters of session {sessionId} should equal its tasks' states: counters {Describe(session)}, "
            + $"tasks {string.Join(", ", counted.Select(c => $"{c.Key} {c.Value}"))}");
        return tasks;
    }

    /// <summary>Waits until no executor is bound to, binding to or unbinding from the session (its services have left it).</summary>
    public static Task WaitUntilNoExecutorServesAsync(this FlameCluster cluster, string sessionId) =>
        cluster.UntilAsync(
            async () => (await ExecutorsOfAsync(cluster.Client, sessionId)).Count == 0,
            $"no executor to be bound to session {sessionId} any more",
            TimeSpan.FromSeconds(30),
            async () => string.Join(", ", (await ExecutorsOfAsync(cluster.Client, sessionId)).Select(e => $"{e.Id} on {e.Node} {e.State}")));

    public static async Task<IReadOnlyList<ExecutorInfo>> ExecutorsOfAsync(IFlameClient client, string sessionId)
    {
        var executors = new List<ExecutorInfo>();
        await foreach (var executor in client.ListExecutorsAsync())
        {
            if (executor.SessionId == sessionId)
                executors.Add(executor);
        }
        return executors;
    }

    /// <summary>The message of the task's last event.</summary>
    public static string LastMessage(this TaskInfo task) => task.Events.Count == 0 ? "" : task.Events[^1].Message ?? "";

    public static string Describe(SessionInfo? session) =>
        session is null
            ? "no answer yet"
            : $"{session.Status.State}: pending {session.Status.Pending}, running {session.Status.Running}, succeed {session.Status.Succeed}, "
              + $"failed {session.Status.Failed}, cancelled {session.Status.Cancelled}; session events: "
              + string.Join(" | ", session.Status.Events.TakeLast(5).Select(e => $"{e.Code} {e.Message}"));

    public static string Describe(IEnumerable<FlameEvent> events) =>
        string.Join(" | ", events.Select(e => $"{(TaskState)e.Code}: {e.Message}"));
}
