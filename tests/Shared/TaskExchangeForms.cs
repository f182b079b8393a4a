using Flame.Grains;

namespace Flame.Testing;

/// <summary>
/// The executor's calls as the gateway's wire forms make them, each one turn of <see cref="ISessionGrain.ExchangeTaskAsync"/>:
/// the tests speak of launching, completing and exchanging windows as the executors do.
/// </summary>
internal static class TaskExchangeForms
{
    /// <summary>LaunchTask: the next task, a wait, or the end (unbind).</summary>
    public static async Task<PollResult<TaskInfo>> LaunchTaskAsync(this ISessionGrain session, string executorId) =>
        One(await session.ExchangeTaskAsync(executorId, TaskExchange.Next));

    /// <summary>CompleteTask: the result of the one task the executor holds.</summary>
    public static Task CompleteTaskAsync(this ISessionGrain session, string executorId, TaskResultInfo result) =>
        session.ExchangeTaskAsync(executorId, new TaskExchange { Kind = TaskExchangeKind.Complete, Result = result });

    /// <summary>CompleteAndLaunchTask: the result, then the next task.</summary>
    public static async Task<PollResult<TaskInfo>> CompleteAndLaunchTaskAsync(this ISessionGrain session, string executorId, TaskResultInfo result) =>
        One(await session.ExchangeTaskAsync(executorId, new TaskExchange { Result = result }));

    /// <summary>The windowed exchange: an empty array for nothing now, Done for no more work.</summary>
    public static async Task<PollResult<TaskInfo[]>> ExchangeTasksAsync(
        this ISessionGrain session, string executorId, IReadOnlyList<TaskResultInfo> results, IReadOnlyList<long> returned, int holding, int window)
    {
        var handout = await session.ExchangeTaskAsync(executorId, new TaskExchange
        {
            Kind = TaskExchangeKind.Window, Results = results, Returned = returned, Holding = holding, Window = window,
        });
        if (handout.KeepWaiting)
            return PollResult<TaskInfo[]>.Wait;
        if (handout.Ended)
            return PollResult<TaskInfo[]>.Done;
        return PollResult<TaskInfo[]>.Of(handout.Task is null ? [] : [handout.Task, .. handout.More ?? []]);
    }

    private static PollResult<TaskInfo> One(TaskHandout handout) =>
        handout.Task is { } task ? PollResult<TaskInfo>.Of(task) : handout.KeepWaiting ? PollResult<TaskInfo>.Wait : PollResult<TaskInfo>.Done;
}
