namespace Flame.SessionManager.Tests.Support;

/// <summary>
/// Waiting on events with a deadline whose failure says what was expected and what was seen.
/// Never a fixed sleep: either the awaited thing happens, or the test fails with a reason.
/// </summary>
public static class Wait
{
    /// <summary>How long any single expected event may take. Generous: the machine is shared.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="expected"/> if it does not finish in time.</summary>
    public static async Task<T> For<T>(Task<T> task, string expected)
    {
        try
        {
            return await task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"timed out after {Timeout.TotalSeconds:0}s waiting for {expected}");
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="expected"/> if it does not finish in time.</summary>
    public static async Task For(Task task, string expected)
    {
        try
        {
            await task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"timed out after {Timeout.TotalSeconds:0}s waiting for {expected}");
        }
    }

    /// <summary>
    /// Re-checks <paramref name="condition"/> until it holds. Only for state that offers no event to wait on
    /// (a server's internal bookkeeping); <paramref name="seen"/> describes the last observation for the failure.
    /// </summary>
    public static async Task Until(
        Func<Task<bool>> condition, string expected, Func<Task<string>>? seen = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Timeout;
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (await condition())
                return;
            if (DateTime.UtcNow > deadline)
            {
                var observed = seen is null ? "" : $"; last seen: {await seen()}";
                throw new Xunit.Sdk.XunitException($"timed out after {limit.TotalSeconds:0}s waiting for {expected}{observed}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Same as <see cref="Until(Func{Task{bool}}, string, Func{Task{string}}?)"/> for a synchronous condition.</summary>
    public static Task Until(Func<bool> condition, string expected, Func<string>? seen = null) =>
        Until(() => Task.FromResult(condition()), expected, seen is null ? null : () => Task.FromResult(seen()));
}

/// <summary>Unique names, since every test shares one cluster.</summary>
public static class Names
{
    /// <summary><paramref name="prefix"/> plus a random suffix: a valid application name or session id.</summary>
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";
}
