using System.Diagnostics;
using Flame.Grains.Scheduling;
using Flame.Grains.Scheduling.Actions;

namespace Flame.Benchmarks;

/// <summary>The scheduling policy on its own: one pass over a large cluster, and a simulation over time.</summary>
internal static class SchedulingBenchmark
{
    /// <summary>Times one Plan pass: <paramref name="sessions"/> open sessions with pending tasks, <paramref name="executors"/> bound executors, 8-core nodes to hold them.</summary>
    public static BenchmarkResult Schedule(int sessions, int executors, int passes)
    {
        var random = new Random(42);
        var nodes = Enumerable.Range(0, (executors + 7) / 8).Select(i => new NodeInfo
        {
            Name = $"n{i:D4}", State = NodeState.Ready, Allocatable = new ResourceRequirement { Cpu = 8, Memory = 32UL << 30 },
        }).ToList();
        var demands = Enumerable.Range(0, sessions).Select(i => new SessionDemand
        {
            SessionId = $"s{i:D5}", Application = "bench", Pending = random.Next(1, 100), Running = 0, Priority = (uint)random.Next(3), Open = true,
            ResReq = new ResourceRequirement { Cpu = 1, Memory = 1UL << 30 },
        }).ToList();
        const long now = 1_000_000_000;
        var bound = Enumerable.Range(0, executors).Select(i => new ExecutorInfo
        {
            Id = $"e{i:D5}", Node = nodes[i / 8].Name, State = ExecutorState.Bound, SessionId = demands[random.Next(sessions)].SessionId,
            BoundAt = now - random.Next(0, 60_000), ResReq = new ResourceRequirement { Cpu = 1, Memory = 1UL << 30 },
        }).ToList();
        var view = new ClusterView(demands, bound, nodes) { Now = now };
        var policy = new SchedulingPolicy();

        var plan = policy.Plan(view); // warm-up
        var times = new List<double>();
        for (var i = 0; i < passes; i++)
        {
            var clock = Stopwatch.StartNew();
            plan = policy.Plan(view);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Report.Title($"schedule: one Plan pass, {sessions} sessions, {executors} executors, {nodes.Count} nodes");
        Report.Figure("actions planned", plan.Count, "");
        Report.Figure("  of which preemptions", plan.Count(a => a is PreemptAction), "");
        Report.Figure("pass, median", times[times.Count / 2], "ms", 2);
        Report.Figure("pass, min", times[0], "ms", 2);
        Report.Figure("pass, max", times[^1], "ms", 2);
        var ok = times[times.Count / 2] < 50;
        Report.Text("check (median < 50 ms)", ok ? "OK" : "FAILED");
        return new BenchmarkResult(ok ? 0 : 1, $"{times[times.Count / 2]:0.00} ms per pass");
    }

    /// <summary>Runs the deterministic simulation and prints its figures.</summary>
    public static BenchmarkResult Simulate(int nodes, int cores, int sessions, int seconds, int priorities, int seed)
    {
        var workload = SchedulingSimulation.RandomSessions(seed, sessions, seconds, priorities);
        var clock = Stopwatch.StartNew();
        var r = SchedulingSimulation.Run(nodes, cores, workload);
        Report.Title($"simulate: {sessions} sessions arriving over {seconds} s on {nodes} nodes x {cores} cores, {priorities} priorities, seed {seed}");
        Report.Figure("tasks", r.Tasks, "");
        Report.Figure("simulated time", r.Makespan, "s");
        Report.Figure("utilisation under backlog", r.Utilisation * 100, "%", 1);
        Report.Figure("fairness (Jain, equal priority)", r.Jain, "", 3);
        Report.Figure("task wait, mean", r.MeanWaitSeconds, "s", 1);
        Report.Figure("task wait, p99", r.P99WaitSeconds, "s", 1);
        Report.Figure("preemptions", r.Preemptions, "");
        Report.Figure("plan time per tick, mean", r.PlanMillisecondsPerTick, "ms", 3);
        Report.Figure("wall time", clock.Elapsed.TotalSeconds, "s", 1);
        return new BenchmarkResult(0, $"utilisation {r.Utilisation:P1}, Jain {r.Jain:0.000}");
    }
}
