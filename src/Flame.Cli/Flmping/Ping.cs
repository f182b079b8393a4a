using System.Diagnostics;
using Flame.Client;
using Flame.Client.Configuration;

namespace Flame.Cli.Flmping;

/// <summary>What flmping was asked to do.</summary>
/// <param name="Endpoint">Where to connect.</param>
/// <param name="Application">The application of the session.</param>
/// <param name="Tasks">How many tasks.</param>
/// <param name="CommonData">The session's common data, or null.</param>
/// <param name="Input">Each task's input, or null.</param>
/// <param name="Perf">Benchmark mode.</param>
/// <param name="Concurrency">Without <paramref name="Perf"/>: most tasks in flight.</param>
/// <param name="Priority">The session's priority.</param>
/// <param name="ResReq">The session's resource requirement, or null for the cluster's default.</param>
public sealed record PingOptions(FlameConnection Endpoint, string Application, int Tasks, byte[]? CommonData, byte[]? Input, bool Perf,
    int Concurrency, uint Priority, ResourceRequirement? ResReq)
{
    /// <summary>The options as given on the command line.</summary>
    public sealed record Raw(string Application, int Tasks, string? CommonData, int CommonDataSize, int InputSize, string? Duration,
        string? Memory, bool Perf, int Concurrency, uint Priority, string? ResReq);

    /// <summary>The options, or a <see cref="CliUsageException"/> naming the first bad one.</summary>
    public static PingOptions Validated(FlameConnection endpoint, Raw raw)
    {
        if (raw.Tasks < 1) throw new CliUsageException($"--tasks must be at least 1, not {raw.Tasks}");
        if (raw.CommonDataSize < 0) throw new CliUsageException($"--common-data-size cannot be negative ({raw.CommonDataSize})");
        if (raw.CommonData is not null && raw.CommonDataSize > 0)
            throw new CliUsageException("give --common-data TEXT or --common-data-size BYTES, not both");
        if (raw.InputSize < 0) throw new CliUsageException($"--input cannot be negative ({raw.InputSize})");
        if (raw.Concurrency < 1) throw new CliUsageException($"--concurrency must be at least 1, not {raw.Concurrency}");

        var input = raw.InputSize > 0 ? new byte[raw.InputSize] : null;
        if (raw.Duration is not null || raw.Memory is not null)
        {
            if (input is not null)
                throw new CliUsageException("give --input BYTES or a ping request (--duration, --memory), not both");
            ulong? duration = raw.Duration is null ? null
                : ulong.TryParse(raw.Duration, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) ? ms
                : throw new CliUsageException($"--duration: '{raw.Duration}' is not a whole number of milliseconds");
            ulong? memory = raw.Memory is null ? null
                : ResourceText.TryParseSize(raw.Memory, out var bytes) ? bytes
                : throw new CliUsageException($"--memory: '{raw.Memory}' is not a size like 10MB, 512k or 1048576");
            input = PingMessages.Request(duration, memory);
        }
        return new PingOptions(endpoint, raw.Application, raw.Tasks,
            raw.CommonData is not null ? PingMessages.CommonData(raw.CommonData) : raw.CommonDataSize > 0 ? new byte[raw.CommonDataSize] : null,
            input, raw.Perf, raw.Concurrency, raw.Priority,
            raw.ResReq is null ? null : ResourceText.ParseRequirement(raw.ResReq, "--resreq"));
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
        var creating = Stopwatch.StartNew();
        var session = await client.CreateSessionAsync(null, new SessionSpec
        {
            Application = options.Application,
            CommonData = options.CommonData,
            Priority = options.Priority,
            ResReq = options.ResReq,
        }, ct);
        var input = options.Input;
        // Flame's first line, then where: the session id is what a user looks up with flmctl.
        Console.WriteLine($"Session <{session.Id}> was created in <{creating.ElapsedMilliseconds} ms>, start to run <{options.Tasks}> tasks in the session:");
        try
        {
            var results = new TaskInfo?[options.Perf ? 0 : options.Tasks];
            var (failed, elapsed, latencies) = options.Perf
                ? await RunBatchedAsync(client, session.Id, input, ct)
                : await RunTasksAsync(client, session.Id, input, results, ct);
            if (!options.Perf)
                PingMessages.Table(results).WriteTo(Console.Out);
            Console.WriteLine($"<{options.Tasks}> tasks was completed in <{(long)elapsed.TotalMilliseconds} ms>.");
            var final = (await client.GetSessionAsync(session.Id, ct)).Status;
            PrintProgress(final, options.Tasks, final: true);
            if (options.Perf)
            {
                PrintPerf("Throughput run (all tasks submitted at once)", elapsed, latencies);
                var single = await RunSequentialAsync(client, session.Id, input, ct);
                PrintLatency("Round trip of one task at a time (warm executor)", single);
            }
            return failed == 0 ? 0 : CliErrors.Failed;
        }
        finally
        {
            await client.CloseSessionAsync(session.Id, CancellationToken.None);
        }
    }

    private async Task<(int Failed, TimeSpan Elapsed, double[] Latencies)> RunTasksAsync(
        IFlameClient client, string sessionId, byte[]? input, TaskInfo?[] results, CancellationToken ct)
    {
        var latencies = new double[options.Tasks];
        var failed = 0;
        var gate = new SemaphoreSlim(options.Concurrency);
        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progress = ShowProgressAsync(client, sessionId, progressStop.Token);
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
                    results[index] = task;
                    if (task.State != TaskState.Succeed)
                        Interlocked.Increment(ref failed);
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

    /// <summary>
    /// The benchmark: one stream of finished tasks for the whole session, tasks created in batches from a
    /// few concurrent submitters. A task's latency runs from the start of its CreateTasks call to the
    /// moment its result arrives.
    /// </summary>
    private async Task<(int Failed, TimeSpan Elapsed, double[] Latencies)> RunBatchedAsync(
        IFlameClient client, string sessionId, byte[]? input, CancellationToken ct)
    {
        const int batchSize = 256;
        var total = options.Tasks;
        var submitted = new long[total];
        var completed = new long[total];
        var failed = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watching = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var results = Task.Run(async () =>
        {
            var seen = 0;
            await foreach (var batch in client.WatchSessionAsync(sessionId, stop.Token))
            {
                watching.TrySetResult();
                var now = Stopwatch.GetTimestamp();
                foreach (var task in batch)
                {
                    completed[(int)(task.Id - 1)] = now;
                    if (task.State != TaskState.Succeed)
                        failed++;
                    if (++seen == total)
                        return;
                }
            }
            throw new FlameException(FlameErrorKind.Internal, $"the session ended after {seen} of {total} tasks");
        }, ct);
        await Task.WhenAny(watching.Task, results);
        if (results.IsFaulted)
            await results;

        var clock = Stopwatch.StartNew();
        var next = -1;
        var inputs = Enumerable.Repeat(input, batchSize).ToArray();
        var submitters = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var offset = Interlocked.Add(ref next, batchSize) - batchSize + 1;
                if (offset >= total)
                    return;
                var count = Math.Min(batchSize, total - offset);
                var started = Stopwatch.GetTimestamp();
                var first = await client.CreateTasksAsync(sessionId, count == batchSize ? inputs : inputs[..count], ct);
                // Ids are consecutive per call, but concurrent calls may be served in any order.
                for (var id = first; id < first + count; id++)
                    submitted[id - 1] = started;
            }
        }, ct)).ToArray();
        await Task.WhenAll(submitters);
        await results;
        var elapsed = clock.Elapsed;
        await stop.CancelAsync();
        var latencies = new double[total];
        for (var i = 0; i < total; i++)
            latencies[i] = Stopwatch.GetElapsedTime(submitted[i], completed[i]).TotalMilliseconds;
        return (failed, elapsed, latencies);
    }

    /// <summary>One task at a time, each created then watched to its end: the latency a lone task sees.</summary>
    private async Task<double[]> RunSequentialAsync(IFlameClient client, string sessionId, byte[]? input, CancellationToken ct)
    {
        var count = Math.Min(options.Tasks, 1000);
        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var task = await client.RunTaskAsync(sessionId, input, ct);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (task.State != TaskState.Succeed)
                throw new FlameException(FlameErrorKind.Internal, $"task {task.Id} ended {task.State}");
        }
        return latencies;
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

    // A bar on a terminal, plain lines otherwise (issue 18); the final line keeps Flame's own form, which scripts read.
    private readonly Progress _progress = new(Console.Out, !Console.IsOutputRedirected);

    private void PrintProgress(SessionStatus s, int total, bool final)
    {
        if (final)
        {
            _progress.Break();
            Console.WriteLine($"Total: {total,8}  Succeed: {s.Succeed,8}  Failed: {s.Failed,6}  Pending: {s.Pending,8}  Running: {s.Running,4}");
            return;
        }
        _progress.Update(s.Succeed + s.Failed + s.Cancelled, total, Progress.Counts(s));
    }

    private void PrintPerf(string title, TimeSpan elapsed, double[] latencies)
    {
        Console.WriteLine(title);
        Console.WriteLine($"  Tasks:       {options.Tasks}");
        Console.WriteLine($"  Duration:    {elapsed.TotalMilliseconds:0} ms");
        Console.WriteLine($"  Throughput:  {options.Tasks / elapsed.TotalSeconds:0} tasks/s");
        PrintPercentiles(latencies);
    }

    private static void PrintLatency(string title, double[] latencies)
    {
        Console.WriteLine(title);
        Console.WriteLine($"  Tasks:       {latencies.Length}");
        PrintPercentiles(latencies);
    }

    private static void PrintPercentiles(double[] latencies)
    {
        Array.Sort(latencies);
        double Percentile(double p) => latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Length) - 1, 0, latencies.Length - 1)];
        Console.WriteLine($"  Latency p50: {Percentile(0.50):0.000} ms");
        Console.WriteLine($"  Latency p99: {Percentile(0.99):0.000} ms");
        Console.WriteLine($"  Latency max: {latencies[^1]:0.000} ms");
    }
}
