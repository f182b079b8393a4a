using System.Diagnostics;
using Flame.Client;

namespace Flame.Cli.Flmping;

/// <summary>What flmping was asked to do.</summary>
public sealed record PingOptions(string Endpoint, string Application, int Tasks, int CommonDataBytes, int InputBytes, bool Perf, int Concurrency)
{
    /// <summary>The options, or a <see cref="CliUsageException"/> naming the first bad one.</summary>
    public static PingOptions Validated(string endpoint, string application, int tasks, int commonData, int input, bool perf, int concurrency)
    {
        if (tasks < 1) throw new CliUsageException($"--tasks must be at least 1, not {tasks}");
        if (commonData < 0) throw new CliUsageException($"--common-data cannot be negative ({commonData})");
        if (input < 0) throw new CliUsageException($"--input cannot be negative ({input})");
        if (concurrency < 1) throw new CliUsageException($"--concurrency must be at least 1, not {concurrency}");
        return new PingOptions(endpoint, application, tasks, commonData, input, perf, concurrency);
    }
}

/// <summary>
/// Creates a session, runs the tasks, shows progress (or, with -p, measures throughput and the
/// round-trip latency of each task from CreateTask to its result), closes the session.
/// </summary>
public sealed class Ping(PingOptions options)
{
    public async Task<int> RunAsync(CancellationToken ct)
    {
        await using var client = new GrpcFlameClient(options.Endpoint);
        var session = await client.CreateSessionAsync(null, new SessionSpec
        {
            Application = options.Application,
            CommonData = options.CommonDataBytes > 0 ? new byte[options.CommonDataBytes] : null,
        }, ct);
        var input = options.InputBytes > 0 ? new byte[options.InputBytes] : null;
        Console.WriteLine($"Session <{session.Id}> created for application <{options.Application}> at {options.Endpoint}");
        try
        {
            var (failed, elapsed, latencies) = await RunTasksAsync(client, session.Id, input, ct);
            var final = (await client.GetSessionAsync(session.Id, ct)).Status;
            PrintProgress(final, options.Tasks, final: true);
            if (options.Perf)
                PrintPerf(elapsed, latencies);
            return failed == 0 ? 0 : CliErrors.Failed;
        }
        finally
        {
            await client.CloseSessionAsync(session.Id, CancellationToken.None);
        }
    }

    private async Task<(int Failed, TimeSpan Elapsed, double[] Latencies)> RunTasksAsync(
        IFlameClient client, string sessionId, byte[]? input, CancellationToken ct)
    {
        var latencies = new double[options.Tasks];
        var failed = 0;
        var gate = new SemaphoreSlim(options.Perf ? options.Concurrency : Math.Min(options.Concurrency, 64));
        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progress = options.Perf ? Task.CompletedTask : ShowProgressAsync(client, sessionId, progressStop.Token);
        var clock = Stopwatch.StartNew();
        var runs = new Task[options.Tasks];
        for (var i = 0; i < options.Tasks; i++)
        {
            await gate.WaitAsync(ct);
            var index = i;
            runs[i] = Task.Run(async () =>
            {
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    var task = await client.RunTaskAsync(sessionId, input, ct);
                    latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (task.State != TaskState.Succeed)
                    {
                        Interlocked.Increment(ref failed);
                        if (!options.Perf)
                            Console.Error.WriteLine($"task {task.Id}: {task.State}: {task.Events.LastOrDefault()?.Message}");
                    }
                }
                finally
                {
                    gate.Release();
                }
            }, ct);
        }
        await Task.WhenAll(runs);
        var elapsed = clock.Elapsed;
        await progressStop.CancelAsync();
        await progress;
        return (failed, elapsed, latencies);
    }

    private async Task ShowProgressAsync(IFlameClient client, string sessionId, CancellationToken ct)
    {
        // Display only: the counters are read a few times a second for the person watching.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
                PrintProgress((await client.GetSessionAsync(sessionId, ct)).Status, options.Tasks, final: false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void PrintProgress(SessionStatus s, int total, bool final)
    {
        var line = $"Total: {total,8}  Succeed: {s.Succeed,8}  Failed: {s.Failed,6}  Pending: {s.Pending,8}  Running: {s.Running,4}";
        if (Console.IsOutputRedirected)
        {
            if (final) Console.WriteLine(line);
            return;
        }
        Console.Write("\r" + line);
        if (final) Console.WriteLine();
    }

    private void PrintPerf(TimeSpan elapsed, double[] latencies)
    {
        Array.Sort(latencies);
        double Percentile(double p) => latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Length) - 1, 0, latencies.Length - 1)];
        Console.WriteLine($"Tasks:       {options.Tasks}");
        Console.WriteLine($"Duration:    {elapsed.TotalMilliseconds:0} ms");
        Console.WriteLine($"Throughput:  {options.Tasks / elapsed.TotalSeconds:0} tasks/s");
        Console.WriteLine($"Latency p50: {Percentile(0.50):0.000} ms");
        Console.WriteLine($"Latency p99: {Percentile(0.99):0.000} ms");
        Console.WriteLine($"Latency max: {latencies[^1]:0.000} ms");
    }
}
