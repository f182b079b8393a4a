using Flame.SessionManager.Grpc;

namespace Flame.SessionManager.Tests;

public sealed class WatchStreamCounterTests
{
    [Fact]
    public void AConnection_TakesStreamsUpToTheLimit_AndOneMoreIsRefusedWithoutBeingCounted()
    {
        var counter = new WatchStreamCounter(2);

        Assert.True(counter.TryEnter("c1"));
        Assert.True(counter.TryEnter("c1"));
        Assert.False(counter.TryEnter("c1"));
        Assert.Equal(2, counter.OpenOn("c1"));
    }

    [Fact]
    public void EachConnection_HasItsOwnCount()
    {
        var counter = new WatchStreamCounter(1);

        Assert.True(counter.TryEnter("c1"));
        Assert.True(counter.TryEnter("c2"));
        Assert.False(counter.TryEnter("c1"));
    }

    [Fact]
    public void AStreamThatEnds_FreesItsPlace_AndAConnectionWithNoneOpenLeavesNothingBehind()
    {
        var counter = new WatchStreamCounter(1);
        Assert.True(counter.TryEnter("c1"));

        counter.Leave("c1");

        Assert.Equal(0, counter.OpenOn("c1"));
        Assert.Equal(0, counter.Connections);
        Assert.True(counter.TryEnter("c1"));
    }

    [Fact]
    public void ConcurrentStreams_NeverPassTheLimit_AndAllLeaveCleanly()
    {
        const int limit = 50;
        var counter = new WatchStreamCounter(limit);
        var entered = 0;

        Parallel.For(0, 2_000, _ =>
        {
            if (!counter.TryEnter("c1"))
                return;
            var now = Interlocked.Increment(ref entered);
            Assert.True(now <= limit, $"{now} streams open at once; the limit is {limit}");
            Interlocked.Decrement(ref entered);
            counter.Leave("c1");
        });

        Assert.Equal(0, counter.Connections);
    }
}
