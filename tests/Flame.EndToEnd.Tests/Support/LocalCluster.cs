using System.Globalization;
using Flame.Client;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>
/// The topology of deploy/local-cluster.sh (PostgreSQL, two silos with their gateways, two executor managers, TLS and
/// tokens) started for one test class in a state folder of its own, and what its fault tests do to it.
/// </summary>
public sealed class LocalCluster
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(240);

    private readonly string _state = Path.Combine(Path.GetTempPath(), $"fe2e-cluster-{Guid.NewGuid().ToString("N")[..8]}");
    private readonly Dictionary<string, string> _extraEnvironment;

    private LocalCluster(Dictionary<string, string> extraEnvironment) => _extraEnvironment = extraEnvironment;

    /// <summary>cluster.env: GATEWAYS, FLAME_CA_FILE, FLAME_TOKEN_FILE, POSTGRES_DATA, …</summary>
    public IReadOnlyDictionary<string, string> Env { get; private set; } = new Dictionary<string, string>();

    /// <summary>The gateways, session-manager-1's first.</summary>
    public string[] Gateways => Env["GATEWAYS"].Split(',');

    private Dictionary<string, string> ScriptEnvironment
    {
        get
        {
            var environment = new Dictionary<string, string>(_extraEnvironment)
            {
                ["FLAME_LOCAL_CLUSTER_DIR"] = _state,
                ["FLAME_LOCAL_CLUSTER_BUILD"] = "0",
                ["FLAME_LOCAL_CLUSTER_CONFIGURATION"] = ExternalCommand.Configuration,
                ["FLAME_LOCAL_CLUSTER_TIMEOUT"] = "200",
            };
            return environment;
        }
    }

    /// <summary>Starts the cluster; <paramref name="extraEnvironment"/> goes to the script (and so to its processes).</summary>
    public static async Task<LocalCluster> StartAsync(Dictionary<string, string>? extraEnvironment = null)
    {
        var cluster = new LocalCluster(extraEnvironment ?? []);
        var start = await ExternalCommand.RunAsync("bash", ["deploy/local-cluster.sh", "start"], ScriptTimeout, "bash is required", cluster.ScriptEnvironment);
        Assert.True(start.ExitCode == 0, $"local-cluster.sh start should succeed{start}");
        cluster.Env = File.ReadAllLines(Path.Combine(cluster._state, "cluster.env"))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        return cluster;
    }

    /// <summary>Stops it; its folder is removed unless FLAME_E2E_KEEP=1.</summary>
    public async Task StopAsync()
    {
        var stop = await ExternalCommand.RunAsync("bash", ["deploy/local-cluster.sh", "stop"], ScriptTimeout, "bash is required", ScriptEnvironment);
        if (stop.ExitCode == 0 && Environment.GetEnvironmentVariable("FLAME_E2E_KEEP") != "1" && Directory.Exists(_state))
            Directory.Delete(_state, recursive: true);
    }

    /// <summary>A client of the secured cluster through <paramref name="gateways"/>, verified with its CA, as its administrator.</summary>
    public GrpcFlameClient Client(string gateways) =>
        new(Flame.Client.Configuration.FlameClientConfig.ResolveConnection([gateways], environment: name => name switch
        {
            "FLAME_CA_FILE" => Env["FLAME_CA_FILE"],
            "FLAME_TOKEN_FILE" => Env["FLAME_TOKEN_FILE"],
            _ => null,
        }));

    /// <summary>SIGKILLs the process group of <paramref name="process"/> (e.g. <c>session-manager-1</c>): it and anything it started.</summary>
    public async Task KillAsync(string process)
    {
        var pid = ProcessGroup(process);
        var kill = await ExternalCommand.RunAsync("kill", ["-KILL", "--", $"-{pid}"], TimeSpan.FromSeconds(30), "kill is required");
        Assert.True(kill.ExitCode == 0, $"{process} should be killed{kill}");
    }

    /// <summary>The process group of <paramref name="process"/>, for a test's own program that kills it at a moment of its choosing.</summary>
    public int ProcessGroup(string process) =>
        int.Parse(File.ReadAllText(Path.Combine(_state, "pids", process + ".pid")).Trim(), CultureInfo.InvariantCulture);

    /// <summary>
    /// The lines of <paramref name="process"/>'s log so far (e.g. <c>session-manager-1</c>): each silo logs to its own
    /// file, so the silo that created or restored a session grain is the one whose log holds the line.
    /// </summary>
    public IReadOnlyList<string> LogLines(string process)
    {
        var log = Path.Combine(_state, "logs", process + ".log");
        if (!File.Exists(log))
            return [];
        // Shared: the process may still be writing it.
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
            lines.Add(line);
        return lines;
    }

    /// <summary>The last lines of every process's log, for failure messages.</summary>
    public string Logs()
    {
        var logs = Path.Combine(_state, "logs");
        return !Directory.Exists(logs) ? "" : string.Concat(Directory.EnumerateFiles(logs).Order().Select(f =>
            $"\n--- {Path.GetFileName(f)}, last lines:\n  {string.Join("\n  ", File.ReadLines(f).TakeLast(12))}"));
    }
}
