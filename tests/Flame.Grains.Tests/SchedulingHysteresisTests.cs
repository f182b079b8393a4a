using Flame.Grains.Scheduling;
using Flame.Grains.Scheduling.Actions;

namespace Flame.Grains.Tests;

/// <summary>
/// The preemption hysteresis tied to what a move costs (issue 16, item 4): the time is the view's <c>Now</c>, the
/// bind times are given as the scheduler would have measured them.
/// </summary>
public sealed class SchedulingHysteresisTests
{
    private const long Now = 1_000_000;
    private static readonly SchedulingPolicy Policy = new();

    private static NodeInfo Node(int cores) => new()
    {
        Name = "n1", State = NodeState.Ready, Allocatable = new ResourceRequirement { Cpu = (ulong)cores },
    };

    private static SessionDemand Session(string id, string application, int pending, uint priority = 0, int running = 0) => new()
    {
        SessionId = id, Application = application, Pending = pending, Running = running, Priority = priority, Open = true,
    };

    private static List<ExecutorInfo> BoundMany(int count, string session, long boundAt) => Enumerable.Range(0, count)
        .Select(i => new ExecutorInfo { Id = $"{session}-e{i}", Node = "n1", State = ExecutorState.Bound, SessionId = session, BoundAt = boundAt })
        .ToList();

    private static List<PreemptAction> Preemptions(ClusterView view) => Policy.Plan(view).OfType<PreemptAction>().ToList();

    [Fact]
    public void AHigherPrioritySessionWithoutExecutors_TakesItsFirstOneAtOnce_FromExecutorsBoundAMomentAgo()
    {
        // Bound 50 ms ago, bind times unknown: before, the high session waited for 10 s of MinBoundTime.
        var view = new ClusterView([Session("high", "h", pending: 6, priority: 10), Session("low", "l", pending: 90, running: 4)],
            BoundMany(4, "low", Now - 50), [Node(4)]) { Now = Now };
        var preempt = Assert.Single(Preemptions(view));
        Assert.Equal(("low", "high"), (preempt.FromSession, preempt.ForSession));
    }

    [Fact]
    public void AHigherPrioritySession_TakesItsFurtherExecutorsOnlyOnceTheyPaidForTheMove()
    {
        // It already holds one: the rest move after 10 × (50 + 50) ms of being bound, not before.
        var sessions = new[] { Session("high", "h", pending: 6, priority: 10, running: 1), Session("low", "l", pending: 90, running: 3) };
        var high = new ExecutorInfo { Id = "high-e0", Node = "n1", State = ExecutorState.Bound, SessionId = "high", BoundAt = Now - 10 };
        var bindTimes = new Dictionary<string, long> { ["h"] = 50, ["l"] = 50 };
        var young = new ClusterView(sessions, [high, .. BoundMany(3, "low", Now - 999)], [Node(4)]) { Now = Now, BindTimes = bindTimes };
        Assert.Empty(Preemptions(young));
        var paid = young with { Executors = [high, .. BoundMany(3, "low", Now - 1_000)] };
        Assert.Equal(3, Preemptions(paid).Count);
    }

    [Fact]
    public void SessionsOfShortBinds_AreRebalancedWithinAFractionOfTheDefaultBoundTime()
    {
        // Equal priority, a holds all 8, b none: with binds of 100 ms the move pays after 2 s (not 10 s).
        var sessions = new[] { Session("a", "fast", pending: 10, running: 8), Session("b", "fast", pending: 10) };
        var view = new ClusterView(sessions, BoundMany(8, "a", Now - 2_000), [Node(8)])
        {
            Now = Now, BindTimes = new Dictionary<string, long> { ["fast"] = 100 },
        };
        Assert.Equal(4, Preemptions(view).Count);
        Assert.Empty(Preemptions(view with { BindTimes = new Dictionary<string, long>() }));
    }

    [Fact]
    public void LongBinds_DoNotThrash_AnExecutorStaysBeyondTheDefaultBoundTime()
    {
        // Binds of 5 s: a move costs 10 s of two binds, so an executor stays 100 s; at 60 s it is not moved.
        var sessions = new[] { Session("a", "slow", pending: 10, running: 8), Session("b", "slow", pending: 10) };
        var bindTimes = new Dictionary<string, long> { ["slow"] = 5_000 };
        var view = new ClusterView(sessions, BoundMany(8, "a", Now - 60_000), [Node(8)]) { Now = Now, BindTimes = bindTimes };
        Assert.Empty(Preemptions(view));
        Assert.Equal(4, Preemptions(view with { Executors = BoundMany(8, "a", Now - 100_000) }).Count);
    }

    [Fact]
    public void MoveCostFactor_ScalesTheHysteresis()
    {
        var sessions = new[] { Session("a", "fast", pending: 10, running: 8), Session("b", "fast", pending: 10) };
        var view = new ClusterView(sessions, BoundMany(8, "a", Now - 500), [Node(8)])
        {
            Now = Now, BindTimes = new Dictionary<string, long> { ["fast"] = 100 },
        };
        Assert.Empty(Preemptions(view));
        Assert.Equal(4, new SchedulingPolicy(new SchedulingOptions { MoveCostFactor = 2 }).Plan(view).OfType<PreemptAction>().Count());
    }

    [Fact]
    public void BindTimes_AreMeasuredFromTheBindToTheBoundReport_AndSmoothed()
    {
        var times = new BindTimes();
        ExecutorInfo Executor(ExecutorState state, long? boundAt) =>
            new() { Id = "e1", Node = "n1", State = state, SessionId = "s1", BoundAt = boundAt };
        var binding = Executor(ExecutorState.Binding, Now);
        times.Observe(null, binding, "app", Now + 10);
        Assert.Empty(times.View);
        times.Observe(binding, Executor(ExecutorState.Bound, Now), "app", Now + 200);
        Assert.Equal(200, times.View["app"]);
        // Reports of the same binding again are no new sample.
        times.Observe(Executor(ExecutorState.Bound, Now), Executor(ExecutorState.Bound, Now), "app", Now + 5_000);
        Assert.Equal(200, times.View["app"]);
        // A second bind of 1,200 ms moves the figure by 0.3 of the difference.
        times.Observe(Executor(ExecutorState.Binding, Now + 10_000), Executor(ExecutorState.Bound, Now + 10_000), "app", Now + 11_200);
        Assert.Equal(500, times.View["app"]);
    }
}
