namespace Flame.Grains.Tests;

public sealed class SessionBatchOrderTests
{
    private static IReadOnlyList<TaskInfo> Tasks(params long[] ids) =>
        ids.Select(id => new TaskInfo { Id = id, SessionId = "s" }).ToList();

    [Fact]
    public void Accept_HoldsABatchThatArrivesEarly_UntilTheOnesBeforeItCome()
    {
        var order = new SessionBatchOrder();

        // The last batch ("done") overtakes the first.
        Assert.Empty(order.Accept(Tasks(3), done: true, batch: 2));
        var ready = order.Accept(Tasks(1, 2), done: false, batch: 1);

        Assert.Equal([[1, 2], [3]], ready.Select(b => b.Tasks.Select(t => t.Id).ToArray()));
        Assert.Equal([false, true], ready.Select(b => b.Done));
    }

    [Fact]
    public void Accept_IgnoresADuplicate()
    {
        var order = new SessionBatchOrder();
        Assert.Single(order.Accept(Tasks(1), done: false, batch: 1));

        Assert.Empty(order.Accept(Tasks(1), done: false, batch: 1));
        Assert.Single(order.Accept(Tasks(2), done: true, batch: 2));
    }
}
