namespace Flame.Grains;

/// <summary>What an executor's turn in the task exchange (<see cref="ISessionGrain.ExchangeTaskAsync"/>) does.</summary>
public enum TaskExchangeKind
{
    /// <summary>
    /// One task at a time: records <see cref="TaskExchange.Result"/> if given (checked: FailedPrecondition when the
    /// executor holds no such task), then hands the next task, waiting for one like a long-poll. Holding a task and
    /// sending no result gives the same task again (the answer was lost).
    /// </summary>
    Next = 0,
    /// <summary>Records <see cref="TaskExchange.Result"/> (checked as in <see cref="Next"/>) and hands nothing.</summary>
    Complete = 1,
    /// <summary>
    /// The task window: records <see cref="TaskExchange.Results"/> (a result for a launch the executor no longer holds
    /// is skipped), takes back <see cref="TaskExchange.Returned"/> unstarted, and hands up to
    /// <see cref="TaskExchange.Window"/> tasks in all beyond the <see cref="TaskExchange.Holding"/> it still has
    /// (those it holds beyond that, from a lost answer, come again). With <see cref="TaskExchange.Holding"/> = 0 it
    /// waits for work like <see cref="Next"/>; otherwise it answers at once. A window of 0: the executor is leaving;
    /// nothing new, no wait.
    /// </summary>
    Window = 2,
    /// <summary>
    /// Gives back <see cref="TaskExchange.Returned"/>: tasks handed out that never reached the executor (no attempt is
    /// counted). Never fails; hands nothing.
    /// </summary>
    GiveBack = 3,
}

/// <summary>One executor's turn in the task exchange: results it reports, tasks it gives back, what it asks for.</summary>
[GenerateSerializer, Immutable, Alias("flame.TaskExchange")]
public sealed record TaskExchange
{
    /// <summary>Asks for the next task, reporting nothing (<see cref="TaskExchangeKind.Next"/>).</summary>
    public static TaskExchange Next { get; } = new();

    /// <summary>What the turn does.</summary>
    [Id(0)] public TaskExchangeKind Kind { get; init; }
    /// <summary><see cref="TaskExchangeKind.Next"/>, <see cref="TaskExchangeKind.Complete"/>: the result of the task held.</summary>
    [Id(1)] public TaskResultInfo? Result { get; init; }
    /// <summary><see cref="TaskExchangeKind.Window"/>: results, in the order the tasks ran.</summary>
    [Id(2)] public IReadOnlyList<TaskResultInfo> Results { get; init; } = [];
    /// <summary><see cref="TaskExchangeKind.Window"/>, <see cref="TaskExchangeKind.GiveBack"/>: launch numbers given back unstarted.</summary>
    [Id(3)] public IReadOnlyList<long> Returned { get; init; } = [];
    /// <summary><see cref="TaskExchangeKind.Window"/>: how many tasks the executor still holds after its results.</summary>
    [Id(4)] public int Holding { get; init; }
    /// <summary><see cref="TaskExchangeKind.Window"/>: how many tasks it may hold in all (0: it is leaving).</summary>
    [Id(5)] public int Window { get; init; }

    /// <summary>The executor takes no more tasks (a window of 0): the answer hands nothing new and never waits.</summary>
    public bool Leaving => Kind == TaskExchangeKind.Window && Window <= 0;
}

/// <summary>The answer to a turn of the task exchange: tasks to run, keep waiting, or stop (unbind).</summary>
/// <remarks>Grain calls time out, so a long wait is made of several turns: <see cref="KeepWaiting"/> says ask again.</remarks>
[GenerateSerializer, Immutable, Alias("flame.TaskHandout")]
public sealed record TaskHandout
{
    /// <summary>Nothing yet; ask again.</summary>
    public static TaskHandout Wait { get; } = new() { KeepWaiting = true };
    /// <summary>No more work: the executor should unbind (it holds nothing).</summary>
    public static TaskHandout Done { get; } = new() { Ended = true };
    /// <summary>Nothing to hand now (a window that holds tasks, or a turn that hands nothing).</summary>
    public static TaskHandout None { get; } = new();

    /// <summary>The first task to run, with its launch number; null when none is handed.</summary>
    [Id(0)] public TaskInfo? Task { get; init; }
    /// <summary>Further tasks (a window), in the order they are to run; null when none.</summary>
    [Id(1)] public TaskInfo[]? More { get; init; }
    /// <summary>Nothing yet, but the wait goes on: ask again.</summary>
    [Id(2)] public bool KeepWaiting { get; init; }
    /// <summary>Nothing, and no more will come: unbind.</summary>
    [Id(3)] public bool Ended { get; init; }

    /// <summary>One task.</summary>
    public static TaskHandout Of(TaskInfo task) => new() { Task = task };

    /// <summary>The tasks of <paramref name="tasks"/> (none: <see cref="None"/>).</summary>
    public static TaskHandout Of(List<TaskInfo> tasks)
    {
        if (tasks.Count <= 1)
            return tasks.Count == 0 ? None : Of(tasks[0]);
        var more = new TaskInfo[tasks.Count - 1];
        tasks.CopyTo(1, more, 0, more.Length);
        return new() { Task = tasks[0], More = more };
    }

    /// <summary>How many tasks are handed.</summary>
    public int Count => Task is null ? 0 : 1 + (More?.Length ?? 0);
}
