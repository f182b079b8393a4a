using System.Diagnostics;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>
/// Waiting on states that live in other processes, with a deadline whose failure says what was expected and
/// what was seen. Never a fixed sleep: the condition is checked again every <see cref="Interval"/> until it holds.
/// </summary>
public static class Wait
{
    /// <summary>The pause between two checks of a remote state that offers no event to wait on.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Re-checks <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes; then fails with
    /// <paramref name="expected"/>, the last observation (<paramref name="seen"/>) and <paramref name="context"/>
    /// (such as the tails of the processes' output).
    /// </summary>
    public static async Task UntilAsync(
        Func<Task<bool>> condition, string expected, TimeSpan timeout,
        Func<Task<string>>? seen = null, Func<string>? context = null)
    {
        var clock = Stopwatch.StartNew();
        Exception? lastError = null;
        while (true)
        {
            try
            {
                // A check that never returns must not outlive the deadline: it fails the wait like a false one.
                var left = timeout - clock.Elapsed;
                if (await condition().WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                    return;
                lastError = null;
            }
            catch (Exception ex) when (ex is FlameException or HttpRequestException or IOException or TimeoutException)
            {
                lastError = ex;
            }
            if (clock.Elapsed > timeout)
            {
                var observed = "";
                if (seen is not null)
                {
                    try
                    {
                        observed = $"; last seen: {await seen()}";
                    }
                    catch (Exception ex)
                    {
                        observed = $"; could not read the state: {ex.Message}";
                    }
                }
                if (lastError is not null)
                    observed += $"; last error: {lastError.GetType().Name}: {lastError.Message}";
                throw new Xunit.Sdk.XunitException(
                    $"timed out after {timeout.TotalSeconds:0.#}s waiting for {expected}{observed}{context?.Invoke()}");
            }
            await Task.Delay(Interval);
        }
    }
}
