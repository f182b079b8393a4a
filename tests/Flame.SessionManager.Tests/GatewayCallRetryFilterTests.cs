using Flame.SessionManager.Grpc;

namespace Flame.SessionManager.Tests;

/// <summary>Which failed grain calls the gateway sends again: those that never ran, and those that may have run only where a repeat is harmless.</summary>
public sealed class GatewayCallRetryFilterTests
{
    [Theory]
    [InlineData("CreateTaskAsync")]
    [InlineData("CloseAsync")]
    [InlineData("GetAsync")]
    public void A_rejected_call_never_ran_so_any_call_is_sent_again(string method) =>
        Assert.True(GatewayCallRetryFilter.MayRetry(Rejection("Unable to connect to S127.0.0.1:11111:0"), method));

    // Orleans makes these itself: their constructors are not public.
    private static Exception Rejection(string message) => (Exception)Activator.CreateInstance(
        typeof(OrleansMessageRejectionException), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance,
        binder: null, args: [message], culture: null)!;

    [Theory]
    [InlineData("GetAsync", true)]
    [InlineData("ListTasksAsync", true)]
    [InlineData("CloseAsync", false)]
    [InlineData("CreateAsync", false)]
    [InlineData("CreateTaskAsync", false)]
    [InlineData("CreateTasksAsync", false)]
    public void A_call_whose_silo_died_while_it_was_out_is_sent_again_only_if_it_reads(string method, bool expected)
    {
        RequestContext.Clear();
        Assert.Equal(expected, GatewayCallRetryFilter.MayRetry(new SiloUnavailableException("The target silo became unavailable"), method));
    }

    [Theory]
    [InlineData("CreateTaskAsync")]
    [InlineData("CreateTasksAsync")]
    public void A_create_whose_silo_died_while_it_was_out_is_sent_again_when_it_carries_an_idempotency_key(string method)
    {
        RequestContext.Set(IdempotencyKey.Header, "k-1");
        try
        {
            Assert.True(GatewayCallRetryFilter.MayRetry(new SiloUnavailableException("The target silo became unavailable"), method));
        }
        finally
        {
            RequestContext.Clear();
        }
    }

    [Fact]
    public void Other_failures_are_not_sent_again()
    {
        Assert.False(GatewayCallRetryFilter.MayRetry(new TimeoutException("response did not arrive on time"), "GetAsync"));
        Assert.False(GatewayCallRetryFilter.MayRetry(FlameException.NotFound("no such session"), "GetAsync"));
    }
}
