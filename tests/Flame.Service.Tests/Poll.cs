using System.Diagnostics;

namespace Flame.Service.Tests;

/// <summary>Waiting on a condition another process makes true, where there is no event to wait on.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, string expected, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > limit)
                Assert.Fail($"expected {expected} within {limit.TotalSeconds} s");
            await Task.Delay(10);
        }
    }
}
