using System.Diagnostics;

namespace Flame.ExecutorManager.Shims;

/// <summary>A service that cannot be started as its application says; the message is shown to the session's users.</summary>
internal sealed class ServiceStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// How the Host shim starts a service process: exactly as the application's spec says, without a shell,
/// plus the variables that tell the service where to listen and who it works for.
/// </summary>
internal static class ServiceLaunch
{
    /// <summary>The Unix socket the service listens on.</summary>
    public const string InstanceEndpointVariable = "FLAME_INSTANCE_ENDPOINT";

    /// <summary>The gateway, for services that open sessions of their own.</summary>
    public const string EndpointVariable = "FLAME_ENDPOINT";

    /// <summary>The executor that started the service.</summary>
    public const string ExecutorIdVariable = "FLAME_EXECUTOR_ID";

    /// <summary>The session the service is started for.</summary>
    public const string SessionIdVariable = "FLAME_SESSION_ID";

    /// <summary>The object cache's endpoint, when the node knows one (Flame's name).</summary>
    public const string CacheEndpointVariable = "FLAME_CACHE_ENDPOINT";

    /// <summary>
    /// The start info of the service of <paramref name="application"/> for <paramref name="sessionId"/>, as Flame
    /// starts it but in a clean environment: <c>spec.command</c> with <c>spec.arguments</c> as separate arguments;
    /// the variables <paramref name="guard"/> lets through, then <c>spec.environments</c> (values expanded against
    /// those, left as they are if one is unknown), the <c>FLAME_*</c> variables (which win) and those of an installed
    /// <paramref name="package"/>; the command and arguments expanded against that environment (unknown references
    /// stay); working directory <c>spec.working_directory</c> (used literally, relative to the executor's
    /// directory) or the executor's directory. The guard checks the command and the working directory.
    /// stdout and stderr are redirected, to be copied to the service log.
    /// </summary>
    /// <exception cref="ServiceStartException">The application has no command, is not for the Host shim, or the node
    /// does not allow its command or working directory.</exception>
    public static ProcessStartInfo BuildStartInfo(
        V1.Application application, string sessionId, string executorId, ExecutorDirectory directory, string gatewayEndpoint,
        NodeGuard guard, InstalledPackage? package = null, string? cacheEndpoint = null)
    {
        var spec = application.Spec ?? new V1.ApplicationSpec();
        var name = application.Metadata?.Name ?? "";
        if (spec.Shim != V1.Shim.Host)
            throw new ServiceStartException($"application '{name}' uses shim {spec.Shim}; this executor manager runs Host services only");
        if (!spec.HasCommand || string.IsNullOrWhiteSpace(spec.Command))
            // Flame's words for the same case: it tries to start an empty program.
            throw new ServiceStartException($"failed to start service by command <>: application '{name}' has no command");

        // Flame does not expand working_directory: it is used as written.
        var workingDirectory = spec.HasWorkingDirectory && !string.IsNullOrWhiteSpace(spec.WorkingDirectory)
            ? Path.GetFullPath(spec.WorkingDirectory, directory.Root)
            : directory.Root;
        guard.CheckWorkingDirectory(workingDirectory, directory.Root);

        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        var environment = info.Environment;
        environment.Clear();
        foreach (var (variable, value) in guard.Inherited)
            environment[variable] = value;
        // Values are expanded against what the node passes through only, so that "${SECRET}" cannot fetch what the
        // clean environment keeps out (Flame looks in its whole environment).
        Func<string, string?> inherited = v => guard.Inherited.GetValueOrDefault(v);
        foreach (var variable in spec.Environments)
        {
            if (string.IsNullOrEmpty(variable.Name) || variable.Name.Contains('=', StringComparison.Ordinal))
                throw new ServiceStartException($"application '{name}' sets an environment variable with an invalid name '{variable.Name}'");
            environment[variable.Name] = VariableExpansion.ExpandAllOrNothing(variable.Value, inherited);
        }
        environment[InstanceEndpointVariable] = directory.SocketPath;
        environment[EndpointVariable] = gatewayEndpoint;
        environment[ExecutorIdVariable] = executorId;
        environment[SessionIdVariable] = sessionId;
        if (!string.IsNullOrEmpty(cacheEndpoint))
            environment[CacheEndpointVariable] = cacheEndpoint;
        package?.AddTo(environment, guard.Inherited);

        Func<string, string?> child = v => environment.TryGetValue(v, out var value) ? value : null;
        foreach (var argument in spec.Arguments)
            info.ArgumentList.Add(VariableExpansion.Expand(argument, child, out _));
        var command = VariableExpansion.Expand(spec.Command, child, out _);
        info.FileName = ResolveCommand(command, workingDirectory, environment.TryGetValue("PATH", out var path) ? path : null);
        var (program, assembly) = guard.CheckCommand(command, info.FileName, info.ArgumentList, workingDirectory);
        // The files the guard judged, not the paths that led to them.
        info.FileName = program;
        if (assembly is not null)
            info.ArgumentList[0] = assembly;
        return info;
    }

    /// <summary>
    /// What the node can refuse before it fetches anything for <paramref name="application"/>: the shim, the command's
    /// presence, the working directory, a package (<paramref name="packageDirectory"/>, where it would be unpacked)
    /// outside <c>AllowedCommands</c>, and the command itself when it does not depend on the package (no package, or
    /// a path that does not name <c>FLAME_APP_DIR</c>; a bare name may be found in the package's <c>bin</c>).
    /// </summary>
    /// <exception cref="ServiceStartException">Refused, as <see cref="BuildStartInfo"/> would refuse it.</exception>
    public static void CheckBeforeInstall(
        V1.Application application, string sessionId, string executorId, ExecutorDirectory directory, string gatewayEndpoint,
        NodeGuard guard, string? packageDirectory)
    {
        var spec = application.Spec ?? new V1.ApplicationSpec();
        if (packageDirectory is not null)
        {
            var workingDirectory = spec.HasWorkingDirectory && !string.IsNullOrWhiteSpace(spec.WorkingDirectory)
                ? Path.GetFullPath(spec.WorkingDirectory, directory.Root)
                : directory.Root;
            guard.CheckWorkingDirectory(workingDirectory, directory.Root);
            guard.CheckPackage(spec.Url, packageDirectory);
            var dependsOnPackage = !spec.Command.Contains('/', StringComparison.Ordinal)
                || spec.Command.Contains(InstalledPackage.AppDirectoryVariable, StringComparison.Ordinal);
            if (dependsOnPackage)
                return;
        }
        // Without the package: its PATH, LD_LIBRARY_PATH and FLAME_APP_DIR are not needed to judge this command.
        BuildStartInfo(application, sessionId, executorId, directory, gatewayEndpoint, guard);
    }

    /// <summary>
    /// A command with a slash is a path, relative to the service's working directory; a bare name is looked up in
    /// the PATH the service gets (the application may set its own). A name not found is left as it is, and the
    /// start fails with the system's message.
    /// </summary>
    internal static string ResolveCommand(string command, string workingDirectory, string? path)
    {
        if (command.Contains('/', StringComparison.Ordinal))
            return Path.GetFullPath(command, workingDirectory);
        if (string.IsNullOrEmpty(path))
            return command;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate))
                return Path.IsPathFullyQualified(candidate) ? candidate : Path.GetFullPath(candidate, workingDirectory);
        }
        return command;
    }
}
