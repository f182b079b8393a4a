using System.Diagnostics;
using Flame.Storage;
using Flame.Storage.Postgres;
using Flame.Storage.Sqlite;
using Npgsql;

namespace Flame.Benchmarks;

/// <summary>
/// Task-store write throughput: C writers each create a task and then complete it, one awaited write at a time (as
/// session grains do), until N tasks have been created and completed; so 2N changes. Group commit turns them into
/// far fewer transactions; the figures show how many.
/// </summary>
internal static class StoreBenchmark
{
    public static async Task<BenchmarkResult> RunAsync(StoreOptions o)
    {
        var summaries = new List<string>();
        var failed = false;

        var directory = Directory.CreateTempSubdirectory("flame-bench-store-").FullName;
        try
        {
            var path = Path.Combine(directory, "flame.db");
            foreach (var fullSync in new[] { true, false })
            {
                var options = new FlameTaskStoreOptions { SqliteFullSync = fullSync };
                var (summary, ok) = await RunOneAsync($"SQLite (WAL, synchronous={(fullSync ? "FULL" : "NORMAL")})", () => new SqliteTaskStore(path, options), o);
                summaries.Add(summary);
                failed |= !ok;
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        if (o.Postgres is not null)
        {
            await ApplySchemaAsync(o.Postgres);
            var (summary, ok) = await RunOneAsync("PostgreSQL", () => new PostgresTaskStore(o.Postgres), o);
            summaries.Add(summary);
            failed |= !ok;
        }
        return new BenchmarkResult(failed ? 1 : 0, string.Join("; ", summaries));
    }

    private static async Task<(string Summary, bool Ok)> RunOneAsync(string name, Func<GroupCommitTaskStore> open, StoreOptions o)
    {
        Report.Title($"store: {name}, {o.Tasks} tasks created then completed by {o.Concurrency} writers, input {o.InputBytes} bytes");
        await using var store = open();
        await WriteAsync(store, "bench-warmup-" + Guid.NewGuid().ToString("N")[..8], o.Warmup, o);

        var session = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var commitsBefore = store.Commits;
        var meter = new ProcessMeter();
        var latencies = await WriteAsync(store, session, o.Tasks, o);
        var reading = meter.Read();
        var commits = store.Commits - commitsBefore;

        var changes = 2 * o.Tasks;
        var seconds = reading.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        Report.Figure("task changes", changes, "");
        Report.Figure("changes/s", changes / seconds, "");
        Report.Figure("commits/s", commits / seconds, "");
        Report.Figure("changes per commit", (double)changes / commits, "", 1);
        Report.Figure("write latency p50", latencies[latencies.Length / 2].TotalMilliseconds, "ms", 2);
        Report.Figure("write latency p99", latencies[(int)(latencies.Length * 0.99)].TotalMilliseconds, "ms", 2);
        Report.Figure("CPU per change (this process)", reading.Cpu.TotalMicroseconds / changes, "µs", 1);

        long completed = 0;
        await foreach (var task in store.LoadTasksAsync(session, 0))
            if (task.State == 2)
                completed++;
        await store.DeleteSessionAsync(session);
        var ok = completed == o.Tasks;
        Report.Text("check", ok ? $"OK: {completed} tasks stored, all completed" : $"FAILED: {completed} of {o.Tasks} tasks stored completed");
        return ($"{name}: {changes / seconds:N0} changes/s, {commits / seconds:N0} commits/s", ok);
    }

    private static async Task<TimeSpan[]> WriteAsync(ITaskStore store, string session, long tasks, StoreOptions o)
    {
        var latencies = new TimeSpan[2 * tasks];
        long next = 0;
        var input = o.InputBytes == 0 ? null : new byte[o.InputBytes];
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var id = Interlocked.Increment(ref next); id <= tasks; id = Interlocked.Increment(ref next))
            {
                var created = new StoredTask { Id = id, State = 0, Input = input, CreationTime = Environment.TickCount64 };
                var start = Stopwatch.GetTimestamp();
                await store.WriteTasksAsync(session, [created]);
                latencies[2 * (id - 1)] = Stopwatch.GetElapsedTime(start);
                start = Stopwatch.GetTimestamp();
                await store.WriteTasksAsync(session, [created with { Input = null, State = 2, Attempts = 1, Output = [1], CompletionTime = Environment.TickCount64 }]);
                latencies[2 * (id - 1) + 1] = Stopwatch.GetElapsedTime(start);
            }
        })));
        return latencies;
    }

    private static async Task ApplySchemaAsync(string connectionString)
    {
        var script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "schema", "002_flame_store.sql"));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(script, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>Options of <c>store</c>.</summary>
internal sealed record StoreOptions(string? Postgres, long Tasks, int Concurrency, int InputBytes, long Warmup)
{
    public static StoreOptions From(Dictionary<string, string> given)
    {
        var options = new Dictionary<string, string>(given);
        options.Remove("postgres", out var postgres);
        if (postgres is not null && !postgres.Contains('='))
            throw new UsageException($"--postgres '{postgres}' is not an Npgsql connection string like \"Host=127.0.0.1;Username=flame;Database=flame\"");
        var o = new StoreOptions(
            postgres,
            BenchmarkCommand.TakeNumber(options, "tasks", 100_000, 1, 100_000_000),
            (int)BenchmarkCommand.TakeNumber(options, "concurrency", 64, 1, 100_000),
            (int)BenchmarkCommand.TakeNumber(options, "input-bytes", 16, 0, 4 * 1024 * 1024),
            BenchmarkCommand.TakeNumber(options, "warmup", 5_000, 1, 100_000_000));
        BenchmarkCommand.RejectRest(options, "store");
        return o;
    }

    public string CommandLine() =>
        $"{BenchmarkCommand.RunPrefix} store{(Postgres is null ? "" : $" --postgres \"{Postgres}\"")} --tasks {Tasks} " +
        $"--concurrency {Concurrency} --input-bytes {InputBytes} --warmup {Warmup}";
}
