using Flame.Grains.Hosting;
using Flame.Grains.Sessions;

namespace Flame.Grains.Tests;

public sealed class TaskLimitsTests
{
    private static readonly FlameLimitsOptions Limits = new() { MaxPendingTasksPerSession = 10, MaxTasksPerCreateTasks = 4 };

    [Theory]
    [InlineData(0, 1)]
    [InlineData(9, 1)]
    [InlineData(6, 4)]
    public void Creating_IsAllowed_UpToTheLimits(int pending, int adding) =>
        TaskLimits.CheckCreate("s1", pending, adding, Limits);

    [Theory]
    [InlineData(10, 1)]
    [InlineData(7, 4)]
    public void Creating_BeyondThePendingLimit_IsResourceExhausted_NamingTheKey(int pending, int adding)
    {
        var ex = Assert.Throws<FlameException>(() => TaskLimits.CheckCreate("s1", pending, adding, Limits));

        Assert.Equal(FlameErrorKind.ResourceExhausted, ex.Kind);
        Assert.Contains("session 's1'", ex.Message);
        Assert.Contains($"has {pending} pending tasks and the limit is 10", ex.Message);
        Assert.Contains("Flame:Limits:MaxPendingTasksPerSession", ex.Message);
    }

    [Fact]
    public void ACallOfMoreTasksThanAllowed_IsInvalidArgument_NamingTheKey_EvenInAnEmptySession()
    {
        var ex = Assert.Throws<FlameException>(() => TaskLimits.CheckCreate("s1", 0, 5, Limits));

        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("5 inputs", ex.Message);
        Assert.Contains("Flame:Limits:MaxTasksPerCreateTasks", ex.Message);
    }

    [Fact]
    public void APendingCountNearIntMax_DoesNotOverflow()
    {
        var limits = new FlameLimitsOptions { MaxPendingTasksPerSession = int.MaxValue, MaxTasksPerCreateTasks = 10_000_000 };
        var ex = Assert.Throws<FlameException>(() => TaskLimits.CheckCreate("s1", int.MaxValue - 1, 2, limits));
        Assert.Equal(FlameErrorKind.ResourceExhausted, ex.Kind);
    }
}
