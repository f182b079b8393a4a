using Flame.SessionManager.Options;
using Microsoft.Extensions.Options;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// Hides from clients what the cluster can hide: a grain call that the gateway makes and that fails because a silo
/// died or a grain is moving is sent again, with back-off, until the membership has settled (at most
/// <see cref="FlameSessionManagerOptions.GrainCallRetryTimeout"/>), instead of reaching the client as UNAVAILABLE.
/// </summary>
/// <remarks>
/// Only the gateway's own calls are retried (not a grain's calls to other grains, whose turn must not wait). A call
/// that was rejected (<see cref="OrleansMessageRejectionException"/>: "Unable to connect to S…", the target known
/// dead, an activation gone) was never delivered, so any call may be sent again. A call that failed with
/// <see cref="SiloUnavailableException"/> (the silo died while the call was out) may have run: it is sent again only
/// where that is safe, reads (<c>Get*</c>, <c>List*</c>) and creates that carry an idempotency key.
/// </remarks>
internal sealed partial class GatewayCallRetryFilter(IOptions<FlameSessionManagerOptions> options, TimeProvider clock,
    ILogger<GatewayCallRetryFilter> logger) : IOutgoingGrainCallFilter
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly TimeSpan _timeout = options.Value.GrainCallRetryTimeout;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (_timeout <= TimeSpan.Zero || context.SourceContext?.GrainInstance is not null)
        {
            await context.Invoke();
            return;
        }
        var started = clock.GetTimestamp();
        var backoff = FirstBackoff;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await context.Invoke();
                if (attempt > 1)
                    LogRecovered(context.InterfaceName, context.MethodName, attempt);
                return;
            }
            catch (Exception ex) when (MayRetry(ex, context.MethodName) && clock.GetElapsedTime(started) + backoff < _timeout)
            {
                LogRetrying(context.InterfaceName, context.MethodName, attempt, backoff.TotalMilliseconds, ex.Message);
            }
            await Task.Delay(backoff, clock);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>True when sending the call again cannot do twice what the first attempt may have done.</summary>
    internal static bool MayRetry(Exception exception, string method) => exception switch
    {
        // First: it derives from OrleansMessageRejectionException, but unlike other rejections the call may have run.
        SiloUnavailableException => IsIdempotent(method),
        OrleansMessageRejectionException => true,
        _ => false,
    };

    /// <summary>Reads, and creates that carry an idempotency key (the session answers a repeat with the same tasks).</summary>
    internal static bool IsIdempotent(string method) =>
        method.StartsWith("Get", StringComparison.Ordinal)
        || method.StartsWith("List", StringComparison.Ordinal)
        || (method is "CreateTaskAsync" or "CreateTasksAsync" && RequestContext.Get(IdempotencyKey.Header) is string);
}
