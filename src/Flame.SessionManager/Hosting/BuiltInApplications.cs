using Flame.Grains;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// Registers the built-in <c>flmping</c> application once the silo runs: a no-op service shipped next to the
/// session manager (<c>flmping-service.dll</c>), so that flmping works on a fresh cluster. It is labelled
/// <c>reuse-services</c>: its services carry no state between sessions.
/// </summary>
internal sealed partial class BuiltInApplications(
    IGrainFactory grains,
    IHostApplicationLifetime lifetime,
    ILogger<BuiltInApplications> logger) : BackgroundService
{
    /// <summary>The name of the built-in ping application.</summary>
    public const string Flmping = "flmping";

    /// <summary>How flmping's service is started: the .NET host running the dll next to ours.</summary>
    public static ApplicationSpec FlmpingSpec => new()
    {
        Description = "Flame's built-in no-op service: each task's output is its input.",
        Command = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet",
        Arguments = [Path.Combine(AppContext.BaseDirectory, "flmping-service.dll")],
        DelayRelease = 5,
        // Stateless: its services are kept between sessions, so that flmping measures tasks rather than the start-up
        // of a process per session (each flmping run is a session). Applications get a fresh process per session.
        Labels = [ApplicationLabels.ReuseServices],
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WhenStartedAsync(stoppingToken);
        var registry = grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key);
        var spec = FlmpingSpec;
        try
        {
            await registry.RegisterAsync(Flmping, spec);
            LogRegistered(Flmping, spec.Arguments[0]);
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.AlreadyExists)
        {
            // Registered by an earlier start (or by hand): leave it as it is.
        }
    }

    private Task WhenStartedAsync(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return started.Task.WaitAsync(ct);
    }
}
