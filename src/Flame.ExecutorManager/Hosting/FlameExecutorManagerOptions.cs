using System.ComponentModel.DataAnnotations;
using System.Net;
using Flame.Channels;
using Flame.Hosting;
using Microsoft.Extensions.Configuration;

namespace Flame.ExecutorManager.Hosting;

/// <summary>
/// How a node agent reaches its gateway and runs its executors. Bound from configuration section
/// <c>Flame:ExecutorManager</c> (environment variables <c>Flame__ExecutorManager__Slots</c>, …); durations
/// are written <c>hh:mm:ss</c> (<c>00:00:02</c>, or <c>00:00:00.500</c> for half a second). Its keys are its settable
/// properties, in this order; any other key of the section is refused (<see cref="FlameOptionsValidator{T}"/>).
/// </summary>
public sealed class FlameExecutorManagerOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:ExecutorManager";

    /// <summary>The variables <see cref="PassEnvironment"/> passes when it is not configured.</summary>
    public static readonly IReadOnlyList<string> DefaultPassEnvironment =
    [
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR", "FLAME_HOME", "DOTNET_ROOT",
        "SSL_CERT_FILE", "SSL_CERT_DIR",
    ];

    /// <summary>
    /// The gateway's flame.v1 address, <c>http://HOST:PORT</c> (plaintext HTTP/2) or <c>https://</c>, or a
    /// comma-separated list of the gateways of several silos: the first that answers is used, and the next when its
    /// connection breaks (the node then registers again). Also given to every service process as <c>FLAME_ENDPOINT</c>.
    /// Default <c>http://127.0.0.1:8080</c>.
    /// </summary>
    public string Endpoint { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The gateways of <see cref="Endpoint"/>, in order. Valid after <see cref="Validate"/>.</summary>
    public IReadOnlyList<Uri> Endpoints =>
        GatewayChannels.TryParseList(Endpoint, assumeHttp: false, out var endpoints, out var error)
            ? endpoints
            : throw new FlameConfigurationException($"configuration key '{Section}:{nameof(Endpoint)}': {error}");

    /// <summary>The node's name, unique in the cluster: its id and name on the wire. Default: the host name.</summary>
    public string? NodeName { get; set; }

    /// <summary>How many executors this node runs at once (one service process each). Default: the number of logical cores.</summary>
    public int? Slots { get; set; }

    /// <summary>
    /// Where executors keep their files: <c>executors/&lt;id&gt;/</c> holds the Unix socket of the service
    /// (<c>instance.sock</c>), its log (<c>service.log</c>) and is its default working directory. Default <c>/tmp/flame</c>.
    /// </summary>
    public string WorkDirectory { get; set; } = "/tmp/flame";

    /// <summary>How often the node sends a heartbeat on its WatchNode stream. Default 2 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a service process has to listen on its socket after it was started. Default 30 s.</summary>
    public TimeSpan ServiceStartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest run of one task (OnTaskInvoke) before the service is killed and the attempt fails (the task runs again
    /// while it has attempts left). Default 1 h, so that a frozen service (SIGSTOP, a deadlock) cannot hold a task and
    /// its executor forever; 00:00:00 means no limit, for sessions whose tasks run longer.
    /// </summary>
    public TimeSpan TaskTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Longest wait for a service's OnSessionLeave when an executor unbinds. Default 10 s.</summary>
    public TimeSpan SessionLeaveTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a service has to exit after SIGTERM before it and its children are killed. Default 5 s.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many directories of ended executors (<c>executors/&lt;id&gt;/</c>, with their <c>service.log</c>) are kept
    /// for post-mortems; older ones are deleted as executors end. Default 100; 0 keeps none.
    /// </summary>
    public int KeepExecutorDirectories { get; set; } = 100;

    /// <summary>
    /// How many tasks of its session an executor may hold at once: the one its service runs and the next ones, handed
    /// ahead so that results and new tasks travel together in one message instead of one each way per task (a
    /// prefetch, like Celery's). An executor takes at most its share of the pending tasks, so a short queue is still
    /// spread over all executors; tasks held ahead count as Running. Used with a gateway that grants windows
    /// (Flame.Orleans's CompleteAndLaunchTasks stream). Default 8; 1 hands one task at a time.
    /// </summary>
    public int TaskWindow { get; set; } = 8;

    /// <summary>
    /// A PEM file of the CA that signed the gateways' certificates: https gateways are verified against it only (not
    /// the system's roots). Default: none (the system's roots).
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// A file holding this node's token (<c>flmctl token create --role node --node NAME</c>), sent as
    /// <c>authorization: Bearer TOKEN</c> on every call to the gateway. Read at start. Default: none (no credential).
    /// </summary>
    public string? TokenFile { get; set; }

    /// <summary>
    /// The bearer token sent with every call (<c>authorization: Bearer</c>), or null to send none. Set in code only (not
    /// a configuration key): the session manager gives its embedded executor manager an in-memory node token here.
    /// Default: none.
    /// </summary>
    [NotAConfigurationKey]
    public string? Token { get; set; }

    /// <summary>
    /// The programs this node runs: absolute paths of executables, or of directories whose files (at any depth) it
    /// runs. A service's command is resolved (PATH, symbolic links, <c>..</c>) and refused with a bind failure unless
    /// it is one of these or under one; <c>/</c> allows everything. A command named <c>dotnet</c> (the .NET host)
    /// that is not itself allowed is judged by the <c>.dll</c> it runs, its first argument. Allowing an interpreter
    /// (<c>/usr/bin/python3</c>, <c>/bin/sh</c>, the .NET host) allows whatever code it is given. Default: none
    /// beyond the built-in applications (<see cref="AllowBuiltInApplications"/>).
    /// </summary>
    public string[] AllowedCommands { get; set; } = [];

    /// <summary>
    /// Whether the built-in applications' services shipped next to this program run (<c>flmping-service.dll</c>, the
    /// service of the built-in <c>flmping</c> application). Default true.
    /// </summary>
    public bool AllowBuiltInApplications { get; set; } = true;

    /// <summary>
    /// Directories (absolute) in which a service may work besides its executor's own directory
    /// (<c>executors/&lt;id&gt;/</c> under <see cref="WorkDirectory"/>, the default). An application's
    /// <c>working_directory</c> elsewhere, once symbolic links and <c>..</c> are resolved, is refused with a bind
    /// failure. Default: none.
    /// </summary>
    public string[] AllowedWorkingDirectories { get; set; } = [];

    /// <summary>
    /// The variables of this process's own environment that services inherit; every other one (connection strings,
    /// tokens, keys) is kept from them. A name ending in <c>*</c> passes every variable that starts with the rest.
    /// Services also get their application's variables and the <c>FLAME_*</c> ones the node sets. Default
    /// <c>PATH, HOME, USER, LOGNAME, LANG, LANGUAGE, LC_*, TZ, TMPDIR, FLAME_HOME, DOTNET_ROOT, SSL_CERT_FILE,
    /// SSL_CERT_DIR</c> (see <see cref="DefaultPassEnvironment"/>); configuring the key replaces the list.
    /// </summary>
    public string[]? PassEnvironment { get; set; }

    /// <summary>
    /// The most bytes an application's package (its <c>url</c>) may take, downloaded and again unpacked; a larger one
    /// is an installation failure. Default 1 GiB (1073741824).
    /// </summary>
    public long MaxPackageBytes { get; set; } = 1L << 30;

    /// <summary>
    /// The object cache endpoint given to every service as <c>FLAME_CACHE_ENDPOINT</c>, as Flame's executor manager
    /// passes its <c>cache.endpoint</c> (e.g. <c>grpc://10.0.0.7:9090</c>). Default: none, and the variable is not set;
    /// the embedded executor manager gets the session manager's advertised cache endpoint.
    /// </summary>
    public string? CacheEndpoint { get; set; }

    /// <summary>The pass-through list in effect: <see cref="PassEnvironment"/>, or <see cref="DefaultPassEnvironment"/>.</summary>
    public IReadOnlyList<string> EffectivePassEnvironment => PassEnvironment ?? DefaultPassEnvironment;

    /// <summary>The node name in effect: <see cref="NodeName"/>, or the host name.</summary>
    public string EffectiveNodeName => string.IsNullOrWhiteSpace(NodeName) ? Dns.GetHostName() : NodeName;

    /// <summary>The slot count in effect: <see cref="Slots"/>, or the number of logical cores.</summary>
    public int EffectiveSlots => Slots ?? Environment.ProcessorCount;

    /// <summary>Binds section <see cref="Section"/> of <paramref name="configuration"/> and validates it, the way both hosts bind options.</summary>
    /// <exception cref="FlameConfigurationException">A key is unknown, cannot be converted or is out of range.</exception>
    public static FlameExecutorManagerOptions FromConfiguration(IConfiguration configuration) =>
        configuration.BindFlameOptions<FlameExecutorManagerOptions>(Section);

    /// <summary>Checks every value; the first bad one is reported with its configuration key.</summary>
    /// <exception cref="FlameConfigurationException">A value is out of range.</exception>
    public void Validate()
    {
        if (ValidationErrors().FirstOrDefault() is { } error)
            throw new FlameConfigurationException(error);
    }

    /// <summary>Every problem with these options, one readable line each, naming the key.</summary>
    public IEnumerable<string> ValidationErrors() => FlameOptionsValidator<FlameExecutorManagerOptions>.InvalidValues(Section, this);

    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        Problems().Select(p => new ValidationResult(p.Problem, [p.Member]));

    private IEnumerable<(string Member, string Problem)> Problems()
    {
        if (string.IsNullOrWhiteSpace(Endpoint))
            yield return (nameof(Endpoint), "is empty; give the gateway's address, e.g. http://127.0.0.1:8080");
        else if (!GatewayChannels.TryParseList(Endpoint, assumeHttp: false, out _, out var endpointError))
            yield return (nameof(Endpoint), endpointError);

        if (CaFile is not null && !File.Exists(CaFile))
            yield return (nameof(CaFile), $"the file '{CaFile}' does not exist");
        if (TokenFile is not null && !File.Exists(TokenFile))
            yield return (nameof(TokenFile), $"the file '{TokenFile}' does not exist");

        if (NodeName is not null && (NodeName.Length > 253 || !IsName(NodeName)))
            yield return (nameof(NodeName), $"'{NodeName}' is not a node name: use letters, digits, '.', '_' and '-', at most 253 characters");

        if (Slots is < 1 or > 1024)
            yield return (nameof(Slots), $"must be between 1 and 1024, not {Slots}");

        if (string.IsNullOrWhiteSpace(WorkDirectory))
            yield return (nameof(WorkDirectory), "is empty; give a directory such as /tmp/flame");
        else if (!Path.IsPathFullyQualified(WorkDirectory))
            yield return (nameof(WorkDirectory), $"'{WorkDirectory}' is not an absolute path");

        if (!InRange(HeartbeatInterval, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(5)))
            yield return (nameof(HeartbeatInterval), $"must be between 00:00:00.050 and 00:05:00, not {Show(HeartbeatInterval)}");
        if (!InRange(ServiceStartTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)))
            yield return (nameof(ServiceStartTimeout), $"must be between 00:00:00.100 and 01:00:00, not {Show(ServiceStartTimeout)}");
        if (TaskTimeout < TimeSpan.Zero)
            yield return (nameof(TaskTimeout), $"must be 00:00:00 (no limit) or positive, not {Show(TaskTimeout)}");
        if (!InRange(SessionLeaveTimeout, TimeSpan.Zero, TimeSpan.FromHours(1)))
            yield return (nameof(SessionLeaveTimeout), $"must be between 00:00:00 and 01:00:00, not {Show(SessionLeaveTimeout)}");
        if (!InRange(ShutdownGrace, TimeSpan.Zero, TimeSpan.FromMinutes(10)))
            yield return (nameof(ShutdownGrace), $"must be between 00:00:00 and 00:10:00, not {Show(ShutdownGrace)}");
        if (MaxPackageBytes < 1)
            yield return (nameof(MaxPackageBytes), $"must be positive, not {MaxPackageBytes}");
        if (TaskWindow is < 1 or > 64)
            yield return (nameof(TaskWindow), $"must be between 1 and 64, not {TaskWindow}");
        foreach (var entry in AllowedCommands)
        {
            if (string.IsNullOrWhiteSpace(entry) || !Path.IsPathFullyQualified(entry))
                yield return (nameof(AllowedCommands), $"'{entry}' is not an absolute path");
        }
        foreach (var entry in AllowedWorkingDirectories)
        {
            if (string.IsNullOrWhiteSpace(entry) || !Path.IsPathFullyQualified(entry))
                yield return (nameof(AllowedWorkingDirectories), $"'{entry}' is not an absolute path");
        }
        foreach (var name in PassEnvironment ?? [])
        {
            if (string.IsNullOrEmpty(name) || name.Contains('=', StringComparison.Ordinal) || name.IndexOf('*', StringComparison.Ordinal) is >= 0 and var star && star != name.Length - 1)
                yield return (nameof(PassEnvironment), $"'{name}' is not a variable name (a '*' may end it)");
        }
        if (KeepExecutorDirectories is < 0 or > 1_000_000)
            yield return (nameof(KeepExecutorDirectories), $"must be between 0 and 1000000, not {KeepExecutorDirectories}");
    }

    // hh:mm:ss as configured, with no trailing zeros in the fraction: 00:00:00.01, 2.00:00:00.
    private static string Show(TimeSpan value)
    {
        var text = value.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        return value.Ticks % TimeSpan.TicksPerSecond == 0 ? text : text.TrimEnd('0');
    }

    private static bool InRange(TimeSpan value, TimeSpan min, TimeSpan max) => value >= min && value <= max;

    private static bool IsName(string value)
    {
        if (value.Length == 0)
            return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                return false;
        }
        return true;
    }
}
