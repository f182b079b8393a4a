namespace Flame.Grains.Tests;

/// <summary>The policy over simulated time: sessions arrive and finish, tasks run, plans are applied each tick.</summary>
public sealed class SchedulingSimulationTests
{
    [Fact]
    public void EqualSessions_ShareFairly_AndKeepTheClusterBusyUnderBacklog()
    {
        var report = SchedulingSimulation.Run(nodes: 8, coresPerNode: 8, SchedulingSimulation.RandomSessions(seed: 7, count: 40, spreadSeconds: 600));
        Assert.True(report.Jain >= 0.9, $"Jain's index {report.Jain:0.000} < 0.9 ({report})");
        Assert.True(report.Utilisation >= 0.9, $"utilisation {report.Utilisation:0.000} < 0.9 ({report})");
        Assert.True(report.Preemptions > 0, $"newcomers should have taken executors back ({report})");
    }

    [Fact]
    public void MixedPriorities_NoExecutorGoesToALowerPriorityWhileAHigherWantsOne_AndTheHigherWaitsLess()
    {
        var report = SchedulingSimulation.Run(nodes: 4, coresPerNode: 4, SchedulingSimulation.RandomSessions(seed: 3, count: 30, spreadSeconds: 300, priorities: 2));
        Assert.True(report.PriorityInversions == 0, $"{report.PriorityInversions} executors went to a lower priority while a higher one wanted more ({report})");
        Assert.True(report.MeanWaitOfHighestPriority < report.MeanWaitOfLowestPriority / 2,
            $"priority 1 waits {report.MeanWaitOfHighestPriority:0.0}s on average, priority 0 {report.MeanWaitOfLowestPriority:0.0}s ({report})");
        Assert.True(report.Utilisation >= 0.9, $"utilisation {report.Utilisation:0.000} < 0.9 ({report})");
    }

    [Fact]
    public void Simulation_IsDeterministic()
    {
        var sessions = SchedulingSimulation.RandomSessions(seed: 3, count: 10, spreadSeconds: 100, priorities: 2);
        var a = SchedulingSimulation.Run(2, 4, sessions);
        var b = SchedulingSimulation.Run(2, 4, sessions);
        Assert.Equal(a with { PlanMillisecondsPerTick = 0 }, b with { PlanMillisecondsPerTick = 0 });
    }
}
