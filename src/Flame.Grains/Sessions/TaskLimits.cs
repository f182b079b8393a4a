using Flame.Grains.Hosting;

namespace Flame.Grains.Sessions;

/// <summary>The caps on creating tasks: tasks per CreateTasks call and pending tasks per session.</summary>
internal static class TaskLimits
{
    /// <summary>
    /// Throws unless <paramref name="adding"/> tasks may be created in one call in a session that holds
    /// <paramref name="pending"/> pending tasks: InvalidArgument for a call larger than any call may be (retrying it
    /// never helps), ResourceExhausted when the session's queue is full (it drains as executors take its tasks).
    /// </summary>
    public static void CheckCreate(string sessionId, int pending, int adding, FlameLimitsOptions limits)
    {
        if (adding > limits.MaxTasksPerCreateTasks)
            throw FlameException.InvalidArgument(
                $"CreateTasks with {adding} inputs; the limit is {limits.MaxTasksPerCreateTasks} tasks per call " +
                $"({FlameLimitsOptions.Section}:{nameof(limits.MaxTasksPerCreateTasks)}); no task was created");
        if ((long)pending + adding > limits.MaxPendingTasksPerSession)
            throw FlameException.ResourceExhausted(
                $"session '{sessionId}' has {pending} pending tasks and the limit is {limits.MaxPendingTasksPerSession} " +
                $"({FlameLimitsOptions.Section}:{nameof(limits.MaxPendingTasksPerSession)}): {adding} more cannot be queued " +
                "until executors take some; no task was created");
    }
}
