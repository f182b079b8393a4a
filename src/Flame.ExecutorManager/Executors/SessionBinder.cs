using System.Diagnostics;
using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Shims;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

/// <summary>
/// An executor's service process and the sessions it enters: starts the service of a binding (checked against the
/// node's rules, its package installed first), or reuses the one kept from a session of the same application, and
/// calls OnSessionEnter; later lets it leave and stops it. Every failure to enter becomes Flame's bind result for
/// BindExecutorCompleted (10 install failed, 11 shim creation failed, 12 OnSessionEnter failed).
/// </summary>
internal sealed partial class SessionBinder : IDisposable
{
    /// <summary>Flame's bind return code for an application whose package could not be installed.</summary>
    internal const int InstallFailedCode = 10;

    private readonly string _executorId;
    private readonly FlameExecutorManagerOptions _options;
    private readonly string _gatewayEndpoint;
    private readonly NodeGuard _guard;
    private readonly ApplicationPackages _packages;
    private readonly ILogger _logger;
    private bool _socketPathReported;

    public SessionBinder(
        string executorId, FlameExecutorManagerOptions options, string gatewayEndpoint, NodeGuard guard, ApplicationPackages packages, ILogger logger)
    {
        _executorId = executorId;
        _options = options;
        _gatewayEndpoint = gatewayEndpoint;
        _guard = guard;
        _packages = packages;
        _logger = logger;
    }

    /// <summary>The service process: of the current binding, or kept from the last one while the executor is idle; null if none.</summary>
    public HostShim? Shim { get; private set; }

    /// <summary>Starts the service (or reuses the kept one) and calls OnSessionEnter; the result goes to BindExecutorCompleted as it is.</summary>
    public async Task<V1.Result> EnterAsync(V1.BindExecutorResponse bind, string sessionId, CancellationToken cancellationToken)
    {
        if (bind.Application is null || bind.Session is null)
            return ShimFailure($"the gateway's bind answer has no {(bind.Application is null ? "application" : "session")}");
        var application = bind.Application;
        var directory = ExecutorDirectory.For(_options.WorkDirectory, _executorId);
        if (directory.SocketPathShortened && !_socketPathReported)
        {
            _socketPathReported = true;
            LogSocketPathShortened(_executorId, directory.SocketPath, Path.Combine(directory.Root, ExecutorDirectory.SocketFileName), ExecutorDirectory.MaxSocketPathBytes);
        }

        if (Shim is { } warm)
        {
            if (warm.IsAlive && warm.Application is { } running && SameService(running, application))
            {
                LogServiceReused(_executorId, sessionId, warm.ProcessId, application.Metadata?.Name ?? "");
                var entered = await EnterAsync(warm, bind, sessionId, cancellationToken).ConfigureAwait(false);
                if (entered.ReturnCode == 0)
                    return entered;
                // The kept process is the problem, not the session: a fresh one decides.
                LogReusedServiceRefused(_executorId, sessionId, warm.ProcessId, entered.Message ?? "");
            }
            await StopAsync(sessionId).ConfigureAwait(false);
        }

        try
        {
            // Before anything is fetched: a refused application makes the node download and unpack nothing.
            ServiceLaunch.CheckBeforeInstall(application, sessionId, _executorId, directory, _gatewayEndpoint, _guard, _packages.DirectoryOf(application));
        }
        catch (ServiceStartException ex)
        {
            LogServiceStartFailed(_executorId, sessionId, ex.Message);
            return ShimFailure(ex.Message);
        }

        InstalledPackage? package;
        try
        {
            package = await _packages.InstallAsync(application, cancellationToken).ConfigureAwait(false);
        }
        catch (ApplicationInstallException ex)
        {
            LogServiceStartFailed(_executorId, sessionId, ex.Message);
            return new V1.Result { ReturnCode = InstallFailedCode, Message = $"application installation failed: {ex.Message}" };
        }

        var shim = Shim = new HostShim(directory, application);
        try
        {
            var info = ServiceLaunch.BuildStartInfo(application, sessionId, _executorId, directory, _gatewayEndpoint, _guard, package, _options.CacheEndpoint);
            var started = Stopwatch.GetTimestamp();
            await shim.StartAsync(info, _options.ServiceStartTimeout, cancellationToken).ConfigureAwait(false);
            var took = Stopwatch.GetElapsedTime(started);
            var app = new KeyValuePair<string, object?>("application", application.Metadata?.Name ?? "");
            Diagnostics.ExecutorManagerMetrics.ServicesStarted.Add(1, app);
            Diagnostics.ExecutorManagerMetrics.ServiceStartDuration.Record(took.TotalSeconds, app);
            LogServiceStarted(_executorId, sessionId, shim.ProcessId, took.TotalMilliseconds);
            LogTaskChannel(_executorId, shim.ProcessId, shim.Tasks!.Name, shim.Tasks.Reason);
        }
        catch (ServiceStartException ex)
        {
            LogServiceStartFailed(_executorId, sessionId, ex.Message);
            return ShimFailure(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The executor's directory or the service log cannot be written: the node's problem, reported with the session.
            LogServiceStartFailed(_executorId, sessionId, ex.Message);
            return ShimFailure($"cannot prepare {directory.Root}: {ex.Message}");
        }
        return await EnterAsync(shim, bind, sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a process started for <paramref name="running"/> can serve <paramref name="next"/>: the same application,
    /// started the same way (command, arguments, environment, working directory, shim). Changes that do not touch the
    /// process, such as its description or delay_release, do not restart it.
    /// </summary>
    internal static bool SameService(V1.Application running, V1.Application next)
    {
        if (running.Metadata?.Name != next.Metadata?.Name)
            return false;
        var a = running.Spec ?? new V1.ApplicationSpec();
        var b = next.Spec ?? new V1.ApplicationSpec();
        return a.Shim == b.Shim && a.Command == b.Command && a.WorkingDirectory == b.WorkingDirectory
            && a.Image == b.Image && a.Url == b.Url && a.Installer == b.Installer
            && a.Arguments.Equals(b.Arguments) && a.Environments.Equals(b.Environments);
    }

    /// <summary>OnSessionEnter on a running service.</summary>
    private static async Task<V1.Result> EnterAsync(HostShim shim, V1.BindExecutorResponse bind, string sessionId, CancellationToken cancellationToken)
    {
        var application = bind.Application!;
        var spec = application.Spec ?? new V1.ApplicationSpec();
        var context = new V1.SessionContext
        {
            SessionId = sessionId,
            Application = new V1.ApplicationContext
            {
                Name = application.Metadata?.Name ?? "",
                Shim = spec.Shim,
            },
        };
        if (spec.HasImage)
            context.Application.Image = spec.Image;
        if (spec.HasCommand)
            context.Application.Command = spec.Command;
        if (spec.HasWorkingDirectory)
            context.Application.WorkingDirectory = spec.WorkingDirectory;
        if (spec.HasUrl)
            context.Application.Url = spec.Url;
        if (spec.HasInstaller)
            context.Application.Installer = spec.Installer;
        if (bind.Session!.Spec is { HasCommonData: true } sessionSpec)
            context.CommonData = sessionSpec.CommonData;

        try
        {
            var entered = await shim.Client.OnSessionEnterAsync(context, cancellationToken: cancellationToken).ConfigureAwait(false);
            return entered.ReturnCode == 0 ? entered : EnterFailure(entered.HasMessage ? entered.Message : $"the service returned code {entered.ReturnCode}");
        }
        catch (RpcException ex)
        {
            var reason = await shim.WaitForExitAsync(TaskRunner.ExitDetectionGrace).ConfigureAwait(false)
                ? $"the service process exited with code {shim.ExitCode} during OnSessionEnter{await shim.LogTailAsync().ConfigureAwait(false)}"
                : $"OnSessionEnter failed with {ex.StatusCode}: {ex.Status.Detail}";
            return EnterFailure(reason);
        }
    }

    /// <summary>OnSessionLeave if the service lives, for at most <paramref name="timeout"/>; null if there is none, or it failed or did not answer.</summary>
    public Task<V1.Result?> TryLeaveAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        Shim?.TryLeaveSessionAsync(timeout, cancellationToken) ?? Task.FromResult<V1.Result?>(null);

    /// <summary>Stops the service in order (SIGTERM, then a kill after the shutdown grace), if there is one.</summary>
    public async Task StopAsync(string sessionId)
    {
        if (Shim is not { } shim)
            return;
        Shim = null;
        try
        {
            if (!await shim.StopAsync(_options.ShutdownGrace).ConfigureAwait(false))
                LogServiceKilled(_executorId, sessionId, shim.ProcessId, _options.ShutdownGrace.TotalSeconds);
        }
        finally
        {
            shim.Dispose();
        }
    }

    /// <summary>Kills the service at once, if there is one (a binding abandoned after a fault).</summary>
    public void Dispose()
    {
        Shim?.Dispose();
        Shim = null;
    }

    /// <summary>Flame's bind code 11: the working directory, the process or its socket could not be set up.</summary>
    private static V1.Result ShimFailure(string detail) => new() { ReturnCode = 11, Message = $"shim creation failed: {detail}" };

    /// <summary>Flame's bind code 12: OnSessionEnter returned non-zero or failed; the detail is the service's message.</summary>
    private static V1.Result EnterFailure(string detail) => new() { ReturnCode = 12, Message = $"on_session_enter failed: {detail}" };
}
