using Flame.Grains.Sessions;

namespace Flame.Grains.Tests.Sessions;

public sealed class DemandReporterTests
{
    private sealed class Timers
    {
        public Func<Task>? Pending;

        public IDisposable Start(Func<Task> callback, TimeSpan due)
        {
            Assert.Equal(DemandReporter.Coalesce, due);
            Pending = callback;
            return new Stop(this);
        }

        private sealed class Stop(Timers timers) : IDisposable
        {
            public void Dispose() => timers.Pending = null;
        }
    }

    private static SessionDemand Demand(int pending, int running) =>
        new() { SessionId = "s", Application = "app", Pending = pending, Running = running, Open = true };

    [Fact]
    public async Task WorkAppearingOrEnding_IsReportedAtOnce_OtherCountsAreCoalescedByTheTimer()
    {
        var now = Demand(0, 0);
        var sent = new List<SessionDemand>();
        var timers = new Timers();
        var reporter = new DemandReporter(() => now, d => { sent.Add(d); return Task.CompletedTask; }, timers.Start);

        reporter.Report(force: false); // the first report always goes
        now = Demand(5, 0);
        reporter.Report(force: false); // work appeared
        now = Demand(4, 1);
        reporter.Report(force: false); // running appeared
        now = Demand(3, 2);
        reporter.Report(force: false);
        now = Demand(2, 3);
        reporter.Report(force: false);
        Assert.Equal([0, 5, 4], sent.Select(d => d.Pending));

        await timers.Pending!();
        Assert.Equal([0, 5, 4, 2], sent.Select(d => d.Pending));
        Assert.Null(timers.Pending);
    }

    [Fact]
    public void AForcedReport_GoesAtOnce_AndNothingIsSentForASessionThatDoesNotExist()
    {
        SessionDemand? now = null;
        var sent = new List<SessionDemand>();
        var reporter = new DemandReporter(() => now, d => { sent.Add(d); return Task.CompletedTask; }, new Timers().Start);
        reporter.Report(force: true);
        Assert.Empty(sent);

        now = Demand(1, 0);
        reporter.Report(force: true);
        reporter.Report(force: true);
        Assert.Equal(2, sent.Count);
    }
}
