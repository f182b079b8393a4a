using System.Collections;
using Flame.ExecutorManager.Hosting;

namespace Flame.ExecutorManager.Shims;

/// <summary>
/// The node's own say over what its services are: which programs run (<see cref="FlameExecutorManagerOptions.AllowedCommands"/>),
/// where they work (<see cref="FlameExecutorManagerOptions.AllowedWorkingDirectories"/>) and which of this process's
/// variables they inherit (<see cref="FlameExecutorManagerOptions.PassEnvironment"/>). The gateway may be wrong or
/// taken over; the node still refuses what its operator did not allow.
/// </summary>
internal sealed class NodeGuard
{
    /// <summary>The file name of the built-in flmping application's service, shipped next to the session manager.</summary>
    public const string FlmpingServiceFileName = "flmping-service.dll";

    private const string AllowedCommandsKey = FlameExecutorManagerOptions.Section + ":" + nameof(FlameExecutorManagerOptions.AllowedCommands);
    private const string AllowedWorkingDirectoriesKey = FlameExecutorManagerOptions.Section + ":" + nameof(FlameExecutorManagerOptions.AllowedWorkingDirectories);

    private readonly string[] _commands;
    private readonly string[] _workingDirectories;

    /// <summary>A guard with the given lists (resolved here) and the inherited variables taken from <paramref name="environment"/>.</summary>
    public NodeGuard(
        string nodeName, IEnumerable<string> allowedCommands, IEnumerable<string> allowedWorkingDirectories,
        IReadOnlyList<string> passEnvironment, IDictionary environment)
    {
        NodeName = nodeName;
        _commands = allowedCommands.Select(RealPath.Of).Distinct(StringComparer.Ordinal).ToArray();
        _workingDirectories = allowedWorkingDirectories.Select(RealPath.Of).Distinct(StringComparer.Ordinal).ToArray();
        var inherited = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry is { Key: string name, Value: string value } && Passes(name, passEnvironment))
                inherited[name] = value;
        }
        Inherited = inherited;
    }

    /// <summary>The guard configured by <paramref name="options"/>, over this process's environment.</summary>
    public static NodeGuard From(FlameExecutorManagerOptions options) => new(
        options.EffectiveNodeName,
        options.AllowBuiltInApplications ? [.. BuiltInServices(), .. options.AllowedCommands] : options.AllowedCommands,
        options.AllowedWorkingDirectories,
        options.EffectivePassEnvironment,
        Environment.GetEnvironmentVariables());

    /// <summary>The services of the built-in applications that ship next to this program.</summary>
    public static IEnumerable<string> BuiltInServices()
    {
        var flmping = Path.Combine(AppContext.BaseDirectory, FlmpingServiceFileName);
        return File.Exists(flmping) ? [flmping] : [];
    }

    /// <summary>The node's name, for messages.</summary>
    public string NodeName { get; }

    /// <summary>The allowed programs and directories, resolved.</summary>
    public IReadOnlyList<string> AllowedCommands => _commands;

    /// <summary>This process's variables that services inherit.</summary>
    public IReadOnlyDictionary<string, string> Inherited { get; }

    /// <summary>
    /// Refuses <paramref name="fileName"/> (absolute, as it will be started) unless it is allowed; the .NET host is
    /// judged by the .dll it runs (<paramref name="arguments"/>[0], relative to <paramref name="workingDirectory"/>).
    /// </summary>
    /// <returns>
    /// What was judged, to be started as it is: the program resolved, and for the .NET host judged by its .dll, that
    /// .dll resolved (else null). Starting the paths as given would let a link changed after the check run another file.
    /// </returns>
    /// <exception cref="ServiceStartException">Not allowed; the message says which file and which key.</exception>
    public (string Program, string? Assembly) CheckCommand(string command, string fileName, IReadOnlyList<string> arguments, string workingDirectory)
    {
        if (!Path.IsPathFullyQualified(fileName))
            throw new ServiceStartException($"command {command} is not allowed on node {NodeName}: it is not found in the service's PATH");
        var program = RealPath.Of(fileName);
        if (IsAllowedCommand(program))
            return (program, null);
        if (Path.GetFileName(program) == "dotnet" && arguments.Count > 0 && !arguments[0].StartsWith('-')
            && arguments[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            var assembly = RealPath.Of(Path.IsPathFullyQualified(arguments[0]) ? arguments[0] : Path.Join(workingDirectory, arguments[0]));
            if (IsAllowedCommand(assembly))
                return (program, assembly);
            throw new ServiceStartException(
                $"command {command} {arguments[0]} is not allowed on node {NodeName}: {assembly} is not in {AllowedCommandsKey}");
        }
        throw new ServiceStartException($"command {command} is not allowed on node {NodeName}: {program} is not in {AllowedCommandsKey}");
    }

    /// <summary>Refuses <paramref name="workingDirectory"/> unless it is under <paramref name="executorDirectory"/> or an allowed directory.</summary>
    /// <exception cref="ServiceStartException">Not allowed; the message says where it leads and which key allows it.</exception>
    public void CheckWorkingDirectory(string workingDirectory, string executorDirectory)
    {
        var resolved = RealPath.Of(workingDirectory);
        if (RealPath.IsUnder(resolved, RealPath.Of(executorDirectory)) || _workingDirectories.Any(d => RealPath.IsUnder(resolved, d)))
            return;
        throw new ServiceStartException(
            $"working directory {workingDirectory} is not allowed on node {NodeName}: {resolved} is neither under the executor's directory nor in {AllowedWorkingDirectoriesKey}");
    }

    /// <summary>
    /// Refuses an application package unpacked into <paramref name="packageDirectory"/> unless that directory is under
    /// <see cref="FlameExecutorManagerOptions.AllowedCommands"/>: a package puts its <c>bin</c> first in the service's
    /// PATH and its <c>libs</c> first in LD_LIBRARY_PATH, which would load its code into whatever allowed program runs.
    /// </summary>
    /// <exception cref="ServiceStartException">Not allowed; the message names the url, the directory and the key.</exception>
    public void CheckPackage(string url, string packageDirectory)
    {
        var resolved = RealPath.Of(packageDirectory);
        if (IsAllowedCommand(resolved))
            return;
        throw new ServiceStartException(
            $"url {url} is not allowed on node {NodeName}: its package would be unpacked into {resolved}, which is not in {AllowedCommandsKey}");
    }

    private bool IsAllowedCommand(string program) => _commands.Any(allowed => RealPath.IsUnder(program, allowed));

    private static bool Passes(string name, IReadOnlyList<string> passEnvironment)
    {
        foreach (var pattern in passEnvironment)
        {
            if (pattern.EndsWith('*') ? name.StartsWith(pattern[..^1], StringComparison.Ordinal) : name == pattern)
                return true;
        }
        return false;
    }
}
