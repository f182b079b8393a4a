using Flame.EndToEnd.Tests.Support;
using Flame.Testing;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests.Observability;

/// <summary>The session manager's Prometheus endpoint, scraped after a workload whose every task's fate is known.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_CountTheTasksOfAKnownWorkload_ExactlyByApplicationAndState()
    {
        var address = $"http://127.0.0.1:{FreePorts.Next()}";
        await using var cluster = await FlameCluster.StartAsync("metrics", new Dictionary<string, string>
        {
            ["Flame:Observability:Endpoint"] = address,
            // One task at a time per executor: a task queued behind a running one stays Pending until it is its turn.
            ["Flame:ExecutorManager:TaskWindow"] = "1",
        });
        var app = await cluster.RegisterTestApplicationAsync("metrics");

        // 4 succeed and 2 fail.
        var first = await cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = app.Name });
        await cluster.Client.CreateTasksAsync(first.Id, ["echo:a", "echo:b", "fail:boom", "echo:c", "fail:bang", "echo:d"]);
        await cluster.WaitUntilAllTerminalAsync(first.Id, 6);

        // One slow task on one executor, three more behind it, and the session closed while the slow one runs:
        // the slow one succeeds, the three are cancelled.
        var second = await cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 1 });
        var slow = (await cluster.Client.CreateTasksAsync(second.Id, ["slowecho:3000:slow"]))[0];
        await cluster.UntilAsync(async () => (await cluster.Client.GetTaskAsync(second.Id, slow.Id)).State == TaskState.Running,
            "the slow task to run", TasksTimeout);
        await cluster.Client.CreateTasksAsync(second.Id, ["echo:x", "echo:y", "echo:z"]);
        await cluster.Client.CloseSessionAsync(second.Id);
        var closed = await cluster.WaitUntilAllTerminalAsync(second.Id, 4);
        Assert.True(closed.Status is { Succeed: 1, Cancelled: 3 }, $"expected 1 succeeded and 3 cancelled, saw {Describe(closed)}");

        var application = $"application=\"{app.Name}\"";
        var text = "";
        var expected = new (string Name, string[] Labels, double Value)[]
        {
            ("flame_tasks_created_total", [application], 10),
            ("flame_tasks_completed_total", [application, "state=\"succeeded\""], 5),
            ("flame_tasks_completed_total", [application, "state=\"failed\""], 2),
            ("flame_tasks_completed_total", [application, "state=\"cancelled\""], 3),
            ("flame_tasks_active", [application, "state=\"pending\""], 0),
            ("flame_tasks_active", [application, "state=\"running\""], 0),
            ("flame_task_duration_seconds_count", [application, "state=\"succeeded\""], 5),
            ("flame_sessions_active", ["state=\"closed\""], 1),
        };
        // The exporter may answer from a scrape of a moment ago: wait for a scrape that shows the finished workload.
        await Wait.UntilAsync(
            async () =>
            {
                text = await Scrape.TextAsync(address);
                return expected.All(e => Scrape.Value(text, e.Name, e.Labels) == e.Value);
            },
            "the scrape to count 10 created, 5 succeeded, 2 failed, 3 cancelled, none pending or running",
            TimeSpan.FromSeconds(30),
            () => Task.FromResult("\n" + Scrape.Lines(text, "flame_tasks") + "\n" + Scrape.Lines(text, "flame_sessions")));

        // What Orleans, ASP.NET Core, the runtime, the gateway and the embedded executor manager publish is there too.
        Assert.Contains("\norleans_", text, StringComparison.Ordinal);
        Assert.Contains("\nkestrel_", text, StringComparison.Ordinal);
        Assert.Contains("\ndotnet_gc_", text, StringComparison.Ordinal);
        Assert.True(Scrape.Value(text, "flame_gateway_calls_total", "method=\"/flame.v1.Frontend/CloseSession\"", "status=\"OK\"") >= 1,
            "the gateway's CloseSession call should be counted:\n" + Scrape.Lines(text, "flame_gateway_calls_total"));
        Assert.True(Scrape.Value(text, "flame_services_started_total", application) >= 1,
            "the embedded executor manager's service starts should be counted:\n" + Scrape.Lines(text, "flame_services"));
        Assert.Equal(7, Scrape.Value(text, "flame_task_invoke_duration_seconds_count"));
    }
}
