using System.Globalization;
using System.Runtime;

namespace Flame.Benchmarks;

/// <summary>Parses the command line and runs one benchmark, or all of them.</summary>
internal static class BenchmarkCommand
{
    public const string RunPrefix = "dotnet run -c Release --project bench/Flame.Benchmarks --";

    private const string Usage = """
        usage: dotnet run -c Release --project bench/Flame.Benchmarks -- <command> [options]

        commands
          create-task   CreateTask throughput through the gRPC gateway over loopback HTTP/2
                          --endpoint URL       an already running session manager without executors, e.g. started with
                                               --Flame:SessionManager:EmbeddedExecutorManager=false (default: host one
                                               in-process)
                          --server KIND        without --endpoint: 'session-manager' (default) hosts the real one;
                                               'stub' hosts a gRPC Frontend that answers without Orleans (the
                                               transport's floor, to compare with)
                          --tasks N            measured calls (default 200000)
                          --concurrency C      unary calls in flight (default 64)
                          --channels K         gRPC channels the calls are spread over (default 1)
                          --input-bytes B      task input size; 0 sends no input (default 0)
                          --warmup N           calls before measuring, not counted (default 20000)
                          --server-pid PID     with --endpoint: also report that process's CPU time
                          --alloc-types N      list the N types this process allocates most while measuring
                                               (sampled from GC AllocationTick events; default 0: off)
          memory        memory per pending task in one session, in an in-process silo
                          --tasks N            pending tasks (default 1000000)
                          --input-bytes B      task input size; 0 means no input (default 0)
                          --concurrency C      grain calls in flight while filling (default 256)
                          --warmup N           tasks in a throw-away session first (default 20000)
                          --alloc-types N      list the N types allocated most while filling (default 0: off)
          store         task-store write throughput: C writers each create a task, then complete it (2 changes per
                        task, one awaited write at a time), on SQLite (synchronous FULL, then NORMAL) and PostgreSQL
                          --postgres CONN      also a PostgreSQL database (an Npgsql connection string); schema 002 is
                                               applied to it (default: SQLite only)
                          --tasks N            tasks (default 100000)
                          --concurrency C      writers (default 64)
                          --input-bytes B      task input size (default 16)
                          --warmup N           tasks in a throw-away session first (default 5000)
          schedule      one scheduling Plan pass over a large cluster (pure policy, no grains)
                          --sessions N         open sessions with pending tasks (default 10000)
                          --executors N        bound executors, on 8-core nodes (default 1000)
                          --passes N           timed passes (default 20)
          simulate      the scheduling policy over simulated time: sessions arrive and finish, tasks run
                          --nodes N            nodes (default 8)
                          --cores N            cores per node, one executor each (default 8)
                          --sessions N         sessions, 100-400 tasks of 2-8 s each (default 40)
                          --seconds N          arrivals spread over this many seconds (default 600)
                          --priorities N       priorities drawn from 0..N-1 (default 1)
                          --seed N             random seed (default 7)
          all           create-task, then memory with input 0 and 16 bytes, all with defaults,
                        then a summary table (--endpoint URL is passed to create-task)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            var command = args[0];
            var options = ParseOptions(args.AsSpan(1));
            switch (command)
            {
                case "create-task":
                {
                    var o = CreateTaskOptions.From(options);
                    PrintHeader(o.CommandLine());
                    return (await CreateTaskBenchmark.RunAsync(o)).ExitCode;
                }
                case "memory":
                {
                    var o = MemoryOptions.From(options);
                    PrintHeader(o.CommandLine());
                    return (await MemoryBenchmark.RunAsync(o)).ExitCode;
                }
                case "store":
                {
                    var o = StoreOptions.From(options);
                    PrintHeader(o.CommandLine());
                    return (await StoreBenchmark.RunAsync(o)).ExitCode;
                }
                case "schedule":
                {
                    var sessions = (int)TakeNumber(options, "sessions", 10_000, 1, 1_000_000);
                    var executors = (int)TakeNumber(options, "executors", 1_000, 1, 1_000_000);
                    var passes = (int)TakeNumber(options, "passes", 20, 1, 10_000);
                    RejectRest(options, command);
                    PrintHeader($"{RunPrefix} schedule --sessions {sessions} --executors {executors} --passes {passes}");
                    return SchedulingBenchmark.Schedule(sessions, executors, passes).ExitCode;
                }
                case "simulate":
                {
                    var nodes = (int)TakeNumber(options, "nodes", 8, 1, 10_000);
                    var cores = (int)TakeNumber(options, "cores", 8, 1, 1_024);
                    var sessions = (int)TakeNumber(options, "sessions", 40, 1, 100_000);
                    var seconds = (int)TakeNumber(options, "seconds", 600, 0, 10_000_000);
                    var priorities = (int)TakeNumber(options, "priorities", 1, 1, 100);
                    var seed = (int)TakeNumber(options, "seed", 7, 0, int.MaxValue);
                    RejectRest(options, command);
                    PrintHeader($"{RunPrefix} simulate --nodes {nodes} --cores {cores} --sessions {sessions} --seconds {seconds} --priorities {priorities} --seed {seed}");
                    return SchedulingBenchmark.Simulate(nodes, cores, sessions, seconds, priorities, seed).ExitCode;
                }
                case "all":
                    return await RunAllAsync(options);
                default:
                    throw new UsageException($"unknown command '{command}'");
            }
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"flame-benchmarks: {ex.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static async Task<int> RunAllAsync(Dictionary<string, string> options)
    {
        foreach (var name in options.Keys)
            if (name != "endpoint")
                throw new UsageException($"'all' takes only --endpoint; run a command alone to change --{name}");
        var createTask = CreateTaskOptions.From(options);
        var memory0 = MemoryOptions.From([]);
        var memory16 = MemoryOptions.From(new Dictionary<string, string> { ["input-bytes"] = "16" });
        PrintHeader($"{RunPrefix} all{(createTask.Endpoint is null ? "" : " --endpoint " + createTask.Endpoint)}");
        Console.WriteLine($"  = {createTask.CommandLine()}");
        Console.WriteLine($"  + {memory0.CommandLine()}");
        Console.WriteLine($"  + {memory16.CommandLine()}");

        var ct = await CreateTaskBenchmark.RunAsync(createTask);
        var m0 = await MemoryBenchmark.RunAsync(memory0);
        var m16 = await MemoryBenchmark.RunAsync(memory16);

        Report.Title("summary");
        Report.Text("create-task", ct.Summary);
        Report.Text($"memory, input {memory0.InputBytes} B", m0.Summary);
        Report.Text($"memory, input {memory16.InputBytes} B", m16.Summary);
        var failed = ct.ExitCode != 0 || m0.ExitCode != 0 || m16.ExitCode != 0;
        Report.Text("checks", failed ? "FAILED (see above)" : "OK");
        return failed ? 1 : 0;
    }

    private static void PrintHeader(string commandLine)
    {
        Console.WriteLine(commandLine);
        Console.WriteLine(
            $"  machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
            $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, " +
            $"{(System.Diagnostics.Debugger.IsAttached ? "DEBUGGER ATTACHED" : BuildConfiguration)} build{LoadAverage()}");
    }

    /// <summary>The machine's load when starting: other work on the same cores makes the figures noisy.</summary>
    private static string LoadAverage()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return $", load average {fields[0]} {fields[1]} {fields[2]}";
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

#if DEBUG
    private const string BuildConfiguration = "DEBUG (numbers are meaningless; use -c Release)";
#else
    private const string BuildConfiguration = "Release";
#endif

    private static Dictionary<string, string> ParseOptions(ReadOnlySpan<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new UsageException($"expected an option such as --tasks, got '{arg}'");
            string name, value;
            var eq = arg.IndexOf('=');
            if (eq > 0)
            {
                name = arg[2..eq];
                value = arg[(eq + 1)..];
            }
            else
            {
                if (i + 1 >= args.Length)
                    throw new UsageException($"option {arg} needs a value");
                name = arg[2..];
                value = args[++i];
            }
            if (!options.TryAdd(name, value))
                throw new UsageException($"option --{name} is given twice");
        }
        return options;
    }

    /// <summary>Takes option <paramref name="name"/> out of <paramref name="options"/> as a number in range.</summary>
    public static long TakeNumber(Dictionary<string, string> options, string name, long defaultValue, long min, long max)
    {
        if (!options.Remove(name, out var text))
            return defaultValue;
        if (!long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
            throw new UsageException($"--{name} '{text}' is not a whole number from {min} to {max}");
        return value;
    }

    /// <summary>Fails on options the command does not know.</summary>
    public static void RejectRest(Dictionary<string, string> options, string command)
    {
        if (options.Count > 0)
            throw new UsageException($"'{command}' does not take --{options.Keys.First()}");
    }
}

/// <summary>A command line that cannot be run; the message says why.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Options of <c>create-task</c>.</summary>
internal sealed record CreateTaskOptions(string? Endpoint, bool Stub, long Tasks, int Concurrency, int Channels, int InputBytes, long Warmup, int? ServerPid, int AllocTypes)
{
    public static CreateTaskOptions From(Dictionary<string, string> given)
    {
        var options = new Dictionary<string, string>(given);
        options.Remove("endpoint", out var endpoint);
        if (endpoint is not null && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
            throw new UsageException($"--endpoint '{endpoint}' is not an address like http://127.0.0.1:8080");
        options.Remove("server", out var server);
        if (server is not null and not "session-manager" and not "stub")
            throw new UsageException($"--server '{server}' is neither 'session-manager' nor 'stub'");
        if (server is not null && endpoint is not null)
            throw new UsageException("--server and --endpoint exclude each other");
        var o = new CreateTaskOptions(
            endpoint,
            server == "stub",
            BenchmarkCommand.TakeNumber(options, "tasks", 200_000, 1, 100_000_000),
            (int)BenchmarkCommand.TakeNumber(options, "concurrency", 64, 1, 100_000),
            (int)BenchmarkCommand.TakeNumber(options, "channels", 1, 1, 1_000),
            (int)BenchmarkCommand.TakeNumber(options, "input-bytes", 0, 0, 4 * 1024 * 1024),
            BenchmarkCommand.TakeNumber(options, "warmup", 20_000, 0, 100_000_000),
            options.ContainsKey("server-pid") ? (int)BenchmarkCommand.TakeNumber(options, "server-pid", 0, 1, int.MaxValue) : null,
            (int)BenchmarkCommand.TakeNumber(options, "alloc-types", 0, 0, 1_000));
        BenchmarkCommand.RejectRest(options, "create-task");
        if (o.ServerPid is not null && o.Endpoint is null)
            throw new UsageException("--server-pid needs --endpoint (without it the server is this process)");
        return o;
    }

    public string CommandLine() =>
        $"{BenchmarkCommand.RunPrefix} create-task{(Endpoint is null ? "" : " --endpoint " + Endpoint)}{(Stub ? " --server stub" : "")} --tasks {Tasks} " +
        $"--concurrency {Concurrency} --channels {Channels} --input-bytes {InputBytes} --warmup {Warmup}" +
        (ServerPid is null ? "" : $" --server-pid {ServerPid}") +
        (AllocTypes == 0 ? "" : $" --alloc-types {AllocTypes}");
}

/// <summary>Options of <c>memory</c>.</summary>
internal sealed record MemoryOptions(long Tasks, int InputBytes, int Concurrency, long Warmup, int AllocTypes)
{
    public static MemoryOptions From(Dictionary<string, string> given)
    {
        var options = new Dictionary<string, string>(given);
        var o = new MemoryOptions(
            BenchmarkCommand.TakeNumber(options, "tasks", 1_000_000, 1, int.MaxValue - 1),
            (int)BenchmarkCommand.TakeNumber(options, "input-bytes", 0, 0, 4 * 1024 * 1024),
            (int)BenchmarkCommand.TakeNumber(options, "concurrency", 256, 1, 100_000),
            BenchmarkCommand.TakeNumber(options, "warmup", 20_000, 0, 100_000_000),
            (int)BenchmarkCommand.TakeNumber(options, "alloc-types", 0, 0, 1_000));
        BenchmarkCommand.RejectRest(options, "memory");
        return o;
    }

    public string CommandLine() =>
        $"{BenchmarkCommand.RunPrefix} memory --tasks {Tasks} --input-bytes {InputBytes} --concurrency {Concurrency} --warmup {Warmup}" +
        (AllocTypes == 0 ? "" : $" --alloc-types {AllocTypes}");
}

/// <summary>What a benchmark run reports back to <c>all</c>.</summary>
internal sealed record BenchmarkResult(int ExitCode, string Summary);
