namespace Flame.Grains;

/// <summary>
/// Durations are measured on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), never as differences of
/// wall-clock times: an NTP step or an operator's <c>date -s</c> moves the wall clock forward or back, and a liveness
/// or expiry rule on it would declare every node dead at once (forward) or never (back). Wall-clock times are for
/// what is shown (a heartbeat's time, a task's creation time).
/// </summary>
internal static class MonotonicTime
{
    /// <summary>Milliseconds on <paramref name="clock"/>'s monotonic clock: only differences mean anything.</summary>
    public static long Ms(TimeProvider clock) => clock.GetTimestamp() / Math.Max(1, clock.TimestampFrequency / 1000);
}
