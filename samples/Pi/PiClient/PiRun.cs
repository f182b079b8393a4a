using System.Diagnostics;
using System.Globalization;
using System.Text;
using Flame.Client;

namespace Flame.Samples.Pi;

/// <summary>A failure of the run that is not an error of the cluster, such as a failed task.</summary>
internal sealed class PiRunException(string message) : Exception(message);

/// <summary>One estimate of π on a Flame cluster.</summary>
internal static class PiRun
{
    /// <summary>The service binary, copied next to pi-client.dll by the project reference to PiService.</summary>
    public const string ServiceFileName = "pi-service.dll";

    /// <summary>Redraws the progress a few times a second until <paramref name="stop"/>: display only.</summary>
    private static async Task ShowProgressAsync(Flame.Cli.Progress progress, Func<int> done, int total, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
                progress.Update(done(), total, "tasks done");
        }
        catch (OperationCanceledException)
        {
        }
    }

    public static async Task<int> RunAsync(PiOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // The endpoint as given, with the CA and token of a secured cluster from FLAME_CA_FILE and FLAME_TOKEN(_FILE).
        await using var client = new GrpcFlameClient(Flame.Client.Configuration.FlameClientConfig.ResolveConnection([options.Endpoint]));
        await EnsureApplicationAsync(client, options.Application, output, cancellationToken);

        var sessionId = "pi-" + Guid.NewGuid().ToString("N")[..8];
        var session = await client.CreateSessionAsync(sessionId, new SessionSpec { Application = options.Application }, cancellationToken);
        try
        {
            var input = Encoding.UTF8.GetBytes(options.Samples.ToString(CultureInfo.InvariantCulture));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Timeout);
            var done = 0;
            var stopwatch = Stopwatch.StartNew();
            TaskInfo[] tasks;
            // On stderr, so that stdout keeps only the estimate: a bar on a terminal, plain lines otherwise.
            var progress = new Flame.Cli.Progress(error, ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
            using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var showing = ShowProgressAsync(progress, () => Volatile.Read(ref done), options.Tasks, stopProgress.Token);
            try
            {
                // Every task at once: the cluster queues them and its executors take them as they can.
                tasks = await Task.WhenAll(Enumerable.Range(0, options.Tasks).Select(async _ =>
                {
                    var task = await client.RunTaskAsync(session.Id, input, timeout.Token);
                    Interlocked.Increment(ref done);
                    return task;
                }));
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new PiRunException($"timed out after {options.Timeout.TotalSeconds:F0} s with {Volatile.Read(ref done)} of {options.Tasks} tasks done "
                    + $"(does the cluster have an executor manager that can start '{options.Application}'?)");
            }
            finally
            {
                await stopProgress.CancelAsync();
                await showing;
                progress.Update(Volatile.Read(ref done), options.Tasks, "tasks done", final: true);
            }
            stopwatch.Stop();

            var failed = tasks.Where(t => t.State != TaskState.Succeed).ToList();
            if (failed.Count > 0)
            {
                var first = failed.MinBy(t => t.Id)!;
                throw new PiRunException($"{failed.Count} of {tasks.Length} tasks did not succeed; task {first.Id} is {first.State}: {Reason(first)}");
            }

            long hits = 0;
            foreach (var task in tasks)
                hits += ParseHits(task);
            var totalSamples = options.Samples * tasks.Length;
            var pi = 4.0 * hits / totalSamples;

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pi is about {pi:F8} (error {Math.Abs(pi - Math.PI):E2}) from {tasks.Length} tasks x {options.Samples} samples in {stopwatch.Elapsed.TotalSeconds:F2} s"));
            output.WriteLine($"session {session.Id}");
            return 0;
        }
        finally
        {
            await CloseQuietlyAsync(client, session.Id, error);
        }
    }

    private static async Task EnsureApplicationAsync(IFlameClient client, string name, TextWriter output, CancellationToken cancellationToken)
    {
        try
        {
            await client.GetApplicationAsync(name, cancellationToken);
            return;
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
        {
        }

        var servicePath = Path.Combine(AppContext.BaseDirectory, ServiceFileName);
        if (!File.Exists(servicePath))
            throw new PiRunException($"the application '{name}' is not registered and {servicePath} is missing: build samples/Pi/PiClient, which copies it there");

        var spec = new ApplicationSpec
        {
            Description = "Monte Carlo estimate of pi (Flame.Orleans sample)",
            Command = "dotnet",
            Arguments = [servicePath],
        };
        try
        {
            await client.RegisterApplicationAsync(name, spec, cancellationToken);
            output.WriteLine($"registered application '{name}': dotnet {servicePath}");
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.AlreadyExists)
        {
            // Another client registered it in the meantime: use theirs.
        }
    }

    private static long ParseHits(TaskInfo task)
    {
        var text = task.Output is null ? "" : Encoding.UTF8.GetString(task.Output);
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var hits)
            ? hits
            : throw new PiRunException($"task {task.Id} returned '{text}', which is not a number of hits");
    }

    // The failure text is in the event that entered the terminal state.
    private static string Reason(TaskInfo task) =>
        task.Events.LastOrDefault(e => e.Code == (int)task.State)?.Message is { Length: > 0 } message
            ? message.ReplaceLineEndings(" ")
            : "no reason given";

    private static async Task CloseQuietlyAsync(IFlameClient client, string sessionId, TextWriter error)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await client.CloseSessionAsync(sessionId, timeout.Token);
        }
        catch (Exception ex) when (ex is FlameException or OperationCanceledException or Grpc.Core.RpcException)
        {
            error.WriteLine($"pi-client: could not close session {sessionId}: {ex.Message.ReplaceLineEndings(" ")}");
        }
    }
}
