using System.Diagnostics;

namespace Flame.Testing;

/// <summary>
/// A real PostgreSQL server for tests: a fresh cluster in a temporary directory, listening on a free loopback port,
/// removed on dispose. PostgreSQL refuses to run as root, so as root the server runs as the <c>postgres</c> OS user
/// (<c>runuser</c>). Needs the Debian package <c>postgresql</c> (test.sh installs it when missing).
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _directory;
    private int _databases;

    private ThrowawayPostgres(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>An Npgsql connection string to <paramref name="database"/> as the superuser (trust authentication).</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=20;Timeout=10";

    /// <summary>Initialises and starts a new server.</summary>
    public static async Task<ThrowawayPostgres> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).Order().LastOrDefault()
            : null;
        if (bin is null)
            throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): apt-get install -y postgresql");
        var directory = Directory.CreateTempSubdirectory("flame-pg-").FullName;
        var server = new ThrowawayPostgres(bin, directory, FreePorts.Next());
        if (IsRoot)
            await RunAsync("chown", "-R", "postgres", directory);
        await server.AsServerUserAsync("initdb", "-D", server.Data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
        await server.StartAgainAsync();
        return server;
    }

    private string Data => Path.Combine(_directory, "data");

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>) and waits until it accepts connections.</summary>
    public Task StartAgainAsync() =>
        AsServerUserAsync("pg_ctl", "-D", Data, "-w", "-t", "60", "-l", Path.Combine(_directory, "log"), "start", "-o",
            $"-p {Port} -c listen_addresses=127.0.0.1 -k {_directory} -c max_connections=400 -c fsync=off");

    /// <summary>Stops the server: <c>fast</c> rolls back open transactions and closes connections; <c>immediate</c> is a crash.</summary>
    public Task StopAsync(string mode = "fast") =>
        AsServerUserAsync("pg_ctl", "-D", Data, "-w", "-t", "60", "-m", mode, "stop");

    /// <summary>
    /// SIGSTOP to the server and every process it started: connections stay open and nothing answers, as when its
    /// machine or VM is frozen. <see cref="ThawAsync"/> resumes it.
    /// </summary>
    public Task FreezeAsync() => SignalEveryProcessAsync("STOP");

    /// <summary>SIGCONT to the server and its processes, after <see cref="FreezeAsync"/>.</summary>
    public Task ThawAsync() => SignalEveryProcessAsync("CONT");

    private Task SignalEveryProcessAsync(string signal)
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(Data, "postmaster.pid")).First().Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var pids = new List<string> { postmaster.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                // "pid (name) state ppid ...": the name may hold spaces, so read after its closing parenthesis.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[1] == pids[0])
                    pids.Add(Path.GetFileName(directory));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not a process, or one that exited meanwhile.
            }
        }
        return RunAsync("kill", [$"-{signal}", .. pids]);
    }

    /// <summary>A new, empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..6]}";
        await RunAsync(Path.Combine(_bin, "createdb"), "-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", name);
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync("immediate");
        }
        catch (InvalidOperationException)
        {
            // Already stopped by the test.
        }
        Directory.Delete(_directory, recursive: true);
    }

    private Task AsServerUserAsync(string tool, params string[] args) =>
        IsRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}{await stdout}");
    }
}
