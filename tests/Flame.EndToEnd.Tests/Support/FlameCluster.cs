using System.Globalization;
using System.Text;
using Flame.Client;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>
/// A Flame cluster made of real processes on free loopback ports: one session manager (silo + gRPC gateway)
/// and any number of standalone executor managers, each with its own node name and work directory under one
/// temporary folder. Tests talk to it over real gRPC through <see cref="Client"/>. Disposing kills every process
/// tree (session manager, executor managers and the services they started) and removes the folder.
/// </summary>
public sealed class FlameCluster : IAsyncDisposable
{
    /// <summary>Generous, for a loaded 2-core machine that runs several clusters at once.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly List<ChildProcess> _executorManagers = [];
    private readonly Lock _lock = new();
    private ChildProcess? _sessionManager;
    private GrpcFlameClient? _client;
    private string? _token;
    private string? _caFile;

    private FlameCluster(string root) => Root = root;

    /// <summary>The folder of this cluster: process logs, work directories, service logs.</summary>
    public string Root { get; }

    /// <summary>The gateway's address, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>A gRPC client of the gateway.</summary>
    public IFlameClient Client => _client ?? throw new InvalidOperationException("the session manager is not started");

    public ChildProcess SessionManager => _sessionManager ?? throw new InvalidOperationException("the session manager is not started");

    /// <summary>
    /// Starts a session manager with <paramref name="settings"/> (configuration keys, passed as
    /// <c>--KEY=VALUE</c> switches) and <paramref name="environment"/> (variables of its process) on free ports, and
    /// waits until its gateway answers. <see cref="Client"/> sends <paramref name="token"/>, if given. With
    /// <paramref name="caFile"/> the gateway is <c>https://</c> (the settings give its certificate) and the client
    /// trusts that CA only.
    /// </summary>
    public static async Task<FlameCluster> StartAsync(
        string name, IReadOnlyDictionary<string, string>? settings = null, IReadOnlyDictionary<string, string?>? environment = null,
        string? token = null, string? caFile = null)
    {
        var root = Path.Combine(Path.GetTempPath(), $"fe2e-{name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(root);
        var cluster = new FlameCluster(root) { _token = token, _caFile = caFile };
        try
        {
            await cluster.StartSessionManagerAsync(settings ?? new Dictionary<string, string>(), environment);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts a standalone executor manager for node <paramref name="node"/> with <paramref name="slots"/> slots and
    /// its own work directory; <paramref name="environment"/> sets its other keys
    /// (<c>Flame__ExecutorManager__TaskTimeout</c>, …). Waits until the node is Ready.
    /// </summary>
    public async Task<ChildProcess> StartExecutorManagerAsync(string node, int slots, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var workDirectory = Path.Combine(Root, node);
        Directory.CreateDirectory(workDirectory);
        var process = ChildProcess.StartProgram(
            node, Programs.ExecutorManager,
            ["--endpoint", Endpoint, "--slots", slots.ToString(CultureInfo.InvariantCulture), "--node", node, "--work-dir", workDirectory],
            environment, workingDirectory: workDirectory, logPath: Path.Combine(Root, node + ".log"));
        lock (_lock)
            _executorManagers.Add(process);
        await Wait.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                    Assert.Fail($"expected executor manager {node} to register its node, but it exited{Tails()}");
                return await NodeStateAsync(node) == NodeState.Ready;
            },
            $"node {node} to be Ready in ListNodes",
            StartTimeout,
            async () => $"node {node} is {(await NodeStateAsync(node))?.ToString() ?? "absent"}",
            Tails);
        return process;
    }

    /// <summary>The (last started) executor manager process of node <paramref name="node"/>.</summary>
    public ChildProcess ExecutorManager(string node)
    {
        lock (_lock)
            return _executorManagers.Last(p => p.Name == node);
    }

    /// <summary>The state of node <paramref name="node"/> as the gateway lists it, or null if it is not listed.</summary>
    public async Task<NodeState?> NodeStateAsync(string node)
    {
        await foreach (var n in Client.ListNodesAsync())
        {
            if (n.Name == node)
                return n.State;
        }
        return null;
    }

    /// <summary>
    /// Registers an application that runs <c>flame-test-service</c> (or <paramref name="command"/>); its services log
    /// the calls they receive (<c>FLAME_TEST_SERVICE_LOG</c>) so that tests can read them with <see cref="TestApplication.Calls"/>.
    /// </summary>
    public async Task<TestApplication> RegisterTestApplicationAsync(
        string purpose, IReadOnlyDictionary<string, string>? environment = null, string? command = null, long delayRelease = 1,
        IReadOnlyList<string>? labels = null)
    {
        var name = $"{purpose}-{Guid.NewGuid().ToString("N")[..8]}";
        // A relative path: each service writes in its working directory, the directory of its executor. One file
        // shared by concurrent services would lose lines, since the test service appends with open-seek-write
        // (no O_APPEND) and its lock is per process.
        var variables = new List<EnvironmentVariable> { new() { Name = "FLAME_TEST_SERVICE_LOG", Value = name + TestApplication.CallLogSuffix } };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            variables.Add(new EnvironmentVariable { Name = key, Value = value });
        await Client.RegisterApplicationAsync(name, new ApplicationSpec
        {
            Description = $"end-to-end test: {purpose}",
            Command = command ?? Programs.DotnetHost,
            Arguments = [Programs.PathOf(Programs.TestService)],
            Environments = variables,
            DelayRelease = delayRelease,
            Labels = labels ?? [],
        });
        return new TestApplication(name, Root);
    }

    /// <summary>The lines of every executor manager's output that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> ExecutorManagerLinesContaining(string text)
    {
        ChildProcess[] processes;
        lock (_lock)
            processes = [.. _executorManagers];
        return processes.SelectMany(p => p.Output).Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds; the failure names <paramref name="expected"/>, what was
    /// <paramref name="seen"/> last and the tails of every process of the cluster.
    /// </summary>
    /// <summary>
    /// Waits until a one-command cluster is ready: its embedded node registered itself and the built-in application is
    /// registered (once the silo runs).
    /// </summary>
    public Task UntilEmbeddedNodeAndFlmpingAsync() => UntilAsync(
        async () =>
        {
            var ready = false;
            await foreach (var node in Client.ListNodesAsync())
                ready |= node.State == NodeState.Ready;
            var registered = false;
            await foreach (var app in Client.ListApplicationsAsync())
                registered |= app.Name == "flmping";
            return ready && registered;
        },
        "a Ready node and the flmping application",
        StartTimeout);

    public Task UntilAsync(Func<Task<bool>> condition, string expected, TimeSpan timeout, Func<Task<string>>? seen = null) =>
        Wait.UntilAsync(condition, expected, timeout, seen, Tails);

    /// <summary>The last lines of every process of the cluster, for failure messages.</summary>
    public string Tails()
    {
        var text = new StringBuilder();
        if (_sessionManager is { } sm)
            text.Append(sm.Tail());
        lock (_lock)
        {
            foreach (var em in _executorManagers)
                text.Append(em.Tail(20));
        }
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync();
        ChildProcess[] processes;
        lock (_lock)
            processes = [.. _executorManagers];
        foreach (var process in processes)
            process.Dispose();
        _sessionManager?.Dispose();
        // FLAME_E2E_KEEP=1 keeps the logs of every process for a look after the run.
        if (Environment.GetEnvironmentVariable("FLAME_E2E_KEEP") == "1")
            return;
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A service killed a moment ago may still be closing a file in it; the folder is temporary anyway.
        }
    }

    private async Task StartSessionManagerAsync(IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string?>? environment)
    {
        // Free ports can be taken by another process between our check and the bind: try again with new ones.
        for (var attempt = 1; ; attempt++)
        {
            var gatewayPort = FreePorts.Next();
            var scheme = _caFile is null ? "http" : "https";
            Endpoint = $"{scheme}://127.0.0.1:{gatewayPort}";
            var arguments = new List<string>
            {
                $"--Flame:SessionManager:Endpoint={Endpoint}",
                $"--Flame:SessionManager:BackendEndpoint={scheme}://127.0.0.1:{FreePorts.Next()}",
                $"--Flame:SessionManager:SiloPort={FreePorts.Next()}",
                $"--Flame:SessionManager:OrleansGatewayPort={FreePorts.Next()}",
                // The durable default (SQLite), in this cluster's own folder.
                $"--Flame:Storage:DataDirectory={Path.Combine(Root, "data")}",
            };
            arguments.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
            var process = ChildProcess.StartProgram(
                "session-manager", Programs.SessionManager, arguments, environment, logPath: Path.Combine(Root, $"session-manager-{attempt}.log"));
            _sessionManager = process;
            _client = new GrpcFlameClient(new Flame.Client.Configuration.FlameConnection([new Uri(Endpoint)], _caFile, "test") { Token = _token });
            var exited = false;
            await Wait.UntilAsync(
                async () =>
                {
                    if (process.HasExited)
                        return exited = true;
                    await foreach (var _ in Client.ListNodesAsync())
                    {
                    }
                    return true;
                },
                $"the gateway at {Endpoint} to answer ListNodes",
                StartTimeout,
                context: Tails);
            if (!exited)
                return;
            // Let the output be read to its end before deciding why it exited.
            await process.WaitForExitAsync(TimeSpan.FromSeconds(10), "the exited session manager's output to close");
            var portTaken = process.Output.Any(l => l.Contains("address already in use", StringComparison.OrdinalIgnoreCase));
            if (!portTaken || attempt == 3)
                Assert.Fail($"expected the session manager to start, but it exited with code {process.ExitCode}{Tails()}");
            await _client.DisposeAsync();
            process.Dispose();
        }
    }
}

/// <summary>A registered application running flame-test-service, whose services log their calls under <paramref name="ClusterRoot"/>.</summary>
public sealed record TestApplication(string Name, string ClusterRoot)
{
    public const string CallLogSuffix = ".service-calls.log";

    /// <summary>
    /// The calls its services received: <c>enter SESSION COMMON_DATA_LENGTH</c>, <c>invoke TASK</c>, <c>leave</c>,
    /// one per line, from every service process of this application (each executor directory has its own file).
    /// </summary>
    public IReadOnlyList<string> Calls()
    {
        var lines = new List<string>();
        foreach (var file in Directory.EnumerateFiles(ClusterRoot, Name + CallLogSuffix, SearchOption.AllDirectories))
        {
            // A service may be appending to it while we read: share it for writing.
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length > 0)
                    lines.Add(line);
            }
        }
        return lines;
    }
}
