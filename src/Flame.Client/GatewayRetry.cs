namespace Flame.Client;

/// <summary>
/// How a client of several gateways carries on when one dies: a call that is safe to send again (a read, an idempotent
/// change, a create with its idempotency key) is sent again on <see cref="FlameErrorKind.Unavailable"/>, with
/// back-off from 100 ms to 2 s, until it has tried for <see cref="Budget"/>; the channel meanwhile moves to another
/// gateway (<c>pick_first</c>).
/// </summary>
internal sealed class GatewayRetry
{
    /// <summary>How long a call keeps trying through the gateways: 60 s, room for a silo to be declared dead and the gateways to settle.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    /// <summary>True when <paramref name="exception"/> says the gateway could not be reached or did not answer, so another may.</summary>
    public static bool IsRetryable(Exception exception) =>
        exception is FlameException { Kind: FlameErrorKind.Unavailable } flame
        // A refused certificate is refused by every gateway alike.
        && !flame.Message.StartsWith("TLS handshake", StringComparison.Ordinal);

    /// <summary>
    /// <paramref name="exception"/> as the caller should see it: a cancellation the caller did not ask for (its
    /// <paramref name="callerToken"/> is not cancelled) is a connect timeout or a call the channel gave up on, so the
    /// gateway did not answer: <see cref="FlameErrorKind.Unavailable"/>, which is retried like any other.
    /// </summary>
    public static Exception Classify(Exception exception, CancellationToken callerToken) =>
        exception is OperationCanceledException && !callerToken.IsCancellationRequested
            ? new FlameException(FlameErrorKind.Unavailable, $"the gateway did not answer in time: {exception.Message}")
            : exception;

    /// <summary>
    /// Runs <paramref name="call"/> until it succeeds, fails otherwise, or the budget is spent. Only once a gateway was
    /// reached (<paramref name="reached"/>): before that, the call is sent again only while <paramref name="tryNext"/>
    /// puts another gateway first, so a client whose gateways never answer (a wrong address) learns it after one try each.
    /// </summary>
    public static async Task<T> RunAsync<T>(
        Func<CancellationToken, Task<T>> call, Func<bool> reached, Func<bool> tryNext, CancellationToken cancellationToken)
    {
        var attempts = new Attempts();
        while (true)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsRetryable(Classify(ex, cancellationToken)) && !reached() && tryNext())
            {
                continue;
            }
            catch (Exception ex) when (IsRetryable(Classify(ex, cancellationToken)) && reached() && attempts.CanWait)
            {
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw Classify(ex, cancellationToken);
            }
            await attempts.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The back-off and budget of one call or one stream; a stream that made progress starts a new budget.</summary>
    public sealed class Attempts
    {
        private long _started = System.Diagnostics.Stopwatch.GetTimestamp();
        private TimeSpan _backoff = FirstBackoff;

        /// <summary>True while waiting once more stays within the budget.</summary>
        public bool CanWait => System.Diagnostics.Stopwatch.GetElapsedTime(_started) + _backoff < Budget;

        /// <summary>Waits the current back-off and doubles it.</summary>
        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(_backoff, cancellationToken).ConfigureAwait(false);
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
        }

        /// <summary>The stream delivered something: a later break gets a fresh budget.</summary>
        public void Progressed()
        {
            _started = System.Diagnostics.Stopwatch.GetTimestamp();
            _backoff = FirstBackoff;
        }
    }
}
