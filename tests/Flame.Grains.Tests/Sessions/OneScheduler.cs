namespace Flame.Grains.Tests.Sessions;

/// <summary>
/// Runs a test body on one exclusive scheduler, as a grain's calls and continuations run on its activation's: the
/// session's parts are not thread-safe and rely on it.
/// </summary>
internal static class OneScheduler
{
    /// <summary>How long a test waits for something it expects.</summary>
    public static TimeSpan Timeout => Wait.Scaled(TimeSpan.FromSeconds(10));

    public static Task Run(Func<Task> body)
    {
        var scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        return Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.None, scheduler).Unwrap().WaitAsync(Timeout * 3);
    }
}
