using System.Diagnostics;

namespace Flame.Cli.Tests;

/// <summary>The shared wait helper (tests/Shared/Wait.cs), tested here once for every test project that links it.</summary>
public sealed class WaitTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task UntilAsync_FailsAtItsDeadline_WhenTheCheckNeverReturns()
    {
        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() =>
            Wait.UntilAsync(() => new TaskCompletionSource<bool>().Task, "a check that hangs", Short, seen: () => Task.FromResult("nothing")));
        Assert.True(clock.Elapsed < Wait.Scaled(Short) + TimeSpan.FromSeconds(10), $"the wait outlived its deadline: {clock.Elapsed}");
        Assert.Contains("waiting for a check that hangs", failure.Message);
        Assert.Contains("last seen: nothing", failure.Message);
        Assert.Contains("the last check did not return before the deadline", failure.Message);
    }

    [Fact]
    public async Task UntilAsync_ReportsTheLastError_WhenTheCheckKeepsThrowing()
    {
        Func<bool> check = () => throw new IOException("connection refused");
        var failure = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() => Wait.UntilAsync(check, "a server that never answers", Short));
        Assert.Contains("waiting for a server that never answers", failure.Message);
        Assert.Contains("last error: IOException: connection refused", failure.Message);
    }

    [Fact]
    public async Task UntilAsync_Returns_OnceTheCheckHolds_AfterItThrewAndFailed()
    {
        var checks = 0;
        await Wait.UntilAsync(() => ++checks switch
        {
            1 => throw new IOException("restarting"),
            2 => false,
            _ => true,
        }, "the third check to hold");
        Assert.Equal(3, checks);
    }

    [Fact]
    public async Task UntilAsync_FailsAtOnce_WhenAnAssertionInsideTheCheckFails()
    {
        var checks = 0;
        await Assert.ThrowsAsync<Xunit.Sdk.EqualException>(() => Wait.UntilAsync(() =>
        {
            checks++;
            Assert.Equal(1, 2);
            return true;
        }, "an assertion that fails", TimeSpan.FromSeconds(30)));
        Assert.Equal(1, checks);
    }
}
