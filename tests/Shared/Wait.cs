using System.Diagnostics;
using System.Globalization;

namespace Flame.Testing;

/// <summary>
/// Waiting with a deadline whose failure says what was expected and what was seen; never a fixed sleep. Shared (as a
/// linked source file) by every test project. Every deadline is multiplied by <see cref="TimeScale"/> and by the
/// machine's load at the moment the wait starts (<see cref="LoadFactor"/>), so that a loaded machine is given more time
/// in one place and a CI machine running the test projects in parallel does not fail on a fixed budget.
/// </summary>
public static class Wait
{
    /// <summary>
    /// The factor every deadline is multiplied by: the environment variable <c>FLAME_TEST_TIME_SCALE</c> (a positive
    /// number such as <c>2</c> or <c>0.5</c>), default 1.
    /// </summary>
    public static readonly double TimeScale =
        double.TryParse(Environment.GetEnvironmentVariable("FLAME_TEST_TIME_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var scale)
        && scale > 0 && double.IsFinite(scale) ? scale : 1;

    /// <summary>How long one expected event may take when a test names no deadline: 20 s, scaled. Generous: the machine is shared.</summary>
    public static TimeSpan Timeout => Scaled(TimeSpan.FromSeconds(20));

    /// <summary>The most <see cref="LoadFactor"/> stretches a deadline: 4.</summary>
    public const double MaxLoadFactor = 4;

    /// <summary>The pause between two checks of a state that offers no event to wait on: 20 ms (not scaled).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    /// <summary><paramref name="timeout"/> multiplied by <see cref="TimeScale"/> and by the load now (<see cref="LoadFactor"/>).</summary>
    public static TimeSpan Scaled(TimeSpan timeout) => timeout * TimeScale * LoadFactor();

    /// <summary>
    /// The one-minute load average per core (<c>/proc/loadavg</c>), at least 1 and at most <see cref="MaxLoadFactor"/>;
    /// 1 where the load cannot be read. A machine at load 40 on 2 cores gives each process a fraction of a core, so the
    /// same work takes several times longer: the deadlines stretch with it, up to the cap, so that a wedged test still fails.
    /// </summary>
    public static double LoadFactor()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            var first = text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal));
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var load) && double.IsFinite(load)
                ? Math.Clamp(load / Environment.ProcessorCount, 1, MaxLoadFactor)
                : 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return 1;
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="expected"/> if it does not finish within <see cref="Timeout"/>.</summary>
    public static async Task<T> For<T>(Task<T> task, string expected)
    {
        var limit = Timeout;
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"timed out after {limit.TotalSeconds:0.#}s waiting for {expected}");
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="expected"/> if it does not finish within <see cref="Timeout"/>.</summary>
    public static async Task For(Task task, string expected)
    {
        var limit = Timeout;
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"timed out after {limit.TotalSeconds:0.#}s waiting for {expected}");
        }
    }

    /// <summary>
    /// Re-checks <paramref name="condition"/> every <see cref="Interval"/> until it holds; only for state that offers
    /// no event to wait on (another process, a server's bookkeeping). Each check is bounded by the deadline: one that
    /// never returns fails the wait like a false one. A check that throws counts as not yet (the state may be
    /// restarting) and its exception is reported if the wait fails; an assertion failed inside the check fails at once.
    /// The failure names <paramref name="expected"/>, the last observation (<paramref name="seen"/>), the last error and
    /// <paramref name="context"/> (such as the tails of the processes' output).
    /// </summary>
    /// <param name="condition">The check.</param>
    /// <param name="expected">What is waited for, for the failure's message ("the node to be Ready").</param>
    /// <param name="timeout">The deadline before scaling; default <see cref="Timeout"/>.</param>
    /// <param name="seen">Describes the state when the wait fails.</param>
    /// <param name="context">More text for the failure's message.</param>
    public static async Task UntilAsync(
        Func<Task<bool>> condition, string expected, TimeSpan? timeout = null,
        Func<Task<string>>? seen = null, Func<string>? context = null)
    {
        var limit = timeout is { } given ? Scaled(given) : Timeout;
        var clock = Stopwatch.StartNew();
        Exception? lastError = null;
        while (true)
        {
            try
            {
                var left = limit - clock.Elapsed;
                if (await condition().WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                    return;
                lastError = null;
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.IAssertionException)
            {
                lastError = ex is TimeoutException && clock.Elapsed >= limit
                    ? new TimeoutException("the last check did not return before the deadline")
                    : ex;
            }
            if (clock.Elapsed >= limit)
                throw new Xunit.Sdk.XunitException(
                    $"timed out after {limit.TotalSeconds:0.#}s waiting for {expected}{await ObservedAsync(seen)}"
                    + (lastError is null ? "" : $"; last error: {lastError.GetType().Name}: {lastError.Message}")
                    + context?.Invoke());
            await Task.Delay(Interval);
        }
    }

    /// <summary>
    /// <see cref="UntilAsync(Func{Task{bool}}, string, TimeSpan?, Func{Task{string}}?, Func{string}?)"/> for a check
    /// that is synchronous.
    /// </summary>
    public static Task UntilAsync(Func<bool> condition, string expected, TimeSpan? timeout = null, Func<string>? seen = null) =>
        UntilAsync(() => Task.FromResult(condition()), expected, timeout, seen is null ? null : () => Task.FromResult(seen()));

    private static async Task<string> ObservedAsync(Func<Task<string>>? seen)
    {
        if (seen is null)
            return "";
        try
        {
            return $"; last seen: {await seen().WaitAsync(Timeout)}";
        }
        catch (Exception ex)
        {
            return $"; could not read the state: {ex.GetType().Name}: {ex.Message}";
        }
    }
}
