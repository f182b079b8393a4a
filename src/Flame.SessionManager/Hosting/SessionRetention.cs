using Flame.Client;
using Flame.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Flame.SessionManager.Hosting;

/// <summary>
/// Deletes closed sessions older than <see cref="FlameLimitsOptions.ClosedSessionRetention"/> once a minute, so that a
/// long-running cluster's store does not grow without bound. Runs only when a retention is set; every silo runs it
/// (a prune is idempotent: a session deleted by another silo is skipped).
/// </summary>
internal sealed partial class SessionRetention(
    OrleansFlameClient flame, IOptions<FlameLimitsOptions> limits, TimeProvider clock, ILogger<SessionRetention> logger) : BackgroundService
{
    /// <summary>How often the store is checked.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = limits.Value.ClosedSessionRetention;
        if (retention <= TimeSpan.Zero)
            return;
        using var timer = new PeriodicTimer(Period, clock);
        do
        {
            try
            {
                await flame.PruneSessionsAsync(clock.GetUtcNow() - retention, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPruneFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 2299, Level = LogLevel.Warning, Message = "Pruning closed sessions failed; trying again in a minute")]
    private partial void LogPruneFailed(Exception exception);
}
