namespace Flame.SessionManager.Security;

/// <summary>Reads the token registry every <see cref="TokenAuthenticator.PollInterval"/>, so that revocations reach this gateway.</summary>
internal sealed partial class TokenRefresher(TokenAuthenticator authenticator, ILogger<TokenRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TokenAuthenticator.PollInterval);
        do
        {
            try
            {
                await authenticator.RefreshAsync(force: true, stoppingToken);
            }
            catch (FlameException ex)
            {
                // The silo is starting or the registry's silo just died: the next tick tries again.
                LogRefreshFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
