using Flame.ExecutorManager.Executors;

namespace Flame.ExecutorManager.Tests;

public sealed class TaskPaceTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void BeforeAnyTaskHasRun_OneAtATime()
    {
        Assert.Equal(1, new TaskPace(8).Window);
    }

    [Theory]
    [InlineData(0.1, 8, 8)]    // 100 queued would fit the horizon: capped by the window
    [InlineData(0.1, 64, 64)]
    [InlineData(2.0, 8, 6)]    // 1 running + 10 ms / 2 ms queued
    [InlineData(4.0, 8, 3)]    // 1 + floor(2.5)
    [InlineData(10.0, 8, 2)]   // exactly the horizon: one queued
    [InlineData(10.5, 8, 1)]
    [InlineData(8000, 8, 1)]   // long tasks: only the one it runs
    [InlineData(0.1, 1, 1)]    // a window of 1 stays 1
    public void Window_QueuesAboutTheHorizonOfWork_BehindTheRunningTask(double taskMs, int maxWindow, int expected)
    {
        var pace = new TaskPace(maxWindow);
        pace.Ran(Ms(taskMs));
        Assert.Equal(expected, pace.Window);
    }

    [Fact]
    public void OneLongTask_StopsQueueing_AtOnce_AndShortOnesReopenTheWindowGradually()
    {
        var pace = new TaskPace(8);
        for (var i = 0; i < 20; i++)
            pace.Ran(Ms(0.2));
        Assert.Equal(8, pace.Window);

        pace.Ran(Ms(2000));
        Assert.Equal(1, pace.Window);

        // Each shorter task moves the estimate a fifth of the way down: the window reopens within a few dozen.
        var reopenedAfter = 0;
        while (pace.Window < 8 && reopenedAfter < 100)
        {
            pace.Ran(Ms(0.2));
            reopenedAfter++;
        }
        Assert.Equal(8, pace.Window);
        Assert.InRange(reopenedAfter, 10, 60);
    }

    [Fact]
    public void AnInstantTask_GivesTheWholeWindow()
    {
        var pace = new TaskPace(16);
        pace.Ran(TimeSpan.Zero);
        Assert.Equal(16, pace.Window);
    }
}
