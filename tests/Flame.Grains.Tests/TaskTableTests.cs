using Flame.Grains.Sessions;

namespace Flame.Grains.Tests;

public sealed class TaskTableTests
{
    private const string Session = "s1";

    [Fact]
    public void Add_AssignsSequentialIds_AndCountsPending()
    {
        var table = new TaskTable();
        Assert.Equal(1, table.Add(null, 10));
        Assert.Equal(2, table.Add([1, 2], 11));
        Assert.Equal(2, table.CountOf(TaskState.Pending));
        var task = table.Get(2, Session);
        Assert.Equal(TaskState.Pending, task.State);
        Assert.Equal(new byte[] { 1, 2 }, task.Input);
        Assert.Equal(11, task.CreationTime);
        Assert.Null(task.CompletionTime);
        var created = Assert.Single(task.Events);
        Assert.Equal((int)TaskState.Pending, created.Code);
        Assert.Equal(11, created.CreationTime);
    }

    [Fact]
    public void Tasks_StartInCreationOrder_AcrossChunkBoundaries()
    {
        var table = new TaskTable();
        const int n = 10_000; // more than two chunks and several queue growths
        for (var i = 0; i < n; i++)
            table.Add(null, i);
        for (var expected = 1L; expected <= n; expected++)
        {
            Assert.True(table.TryStartNext(n, null, out var id));
            Assert.Equal(expected, id);
        }
        Assert.False(table.TryStartNext(n, null, out _));
        Assert.Equal(n, table.CountOf(TaskState.Running));
        Assert.Equal(0, table.CountOf(TaskState.Pending));
    }

    [Fact]
    public void Complete_RecordsOutput_TimesAndEvents()
    {
        var table = new TaskTable();
        var id = table.Add(null, 100);
        Assert.True(table.TryStartNext(105, null, out _));
        table.Complete(id, TaskState.Succeed, [7], null, 110);
        var task = table.Get(id, Session);
        Assert.Equal(TaskState.Succeed, task.State);
        Assert.Equal(new byte[] { 7 }, task.Output);
        Assert.Equal(110, task.CompletionTime);
        Assert.Equal([0, 1, 2], task.Events.Select(e => e.Code));
        Assert.Equal([100L, 105L, 110L], task.Events.Select(e => e.CreationTime));
        Assert.Equal(1, table.CountOf(TaskState.Succeed));
        Assert.Equal(0, table.CountOf(TaskState.Running));
    }

    [Fact]
    public void Failure_CarriesTheServiceMessageInItsEvent()
    {
        var table = new TaskTable();
        var id = table.Add(null, 1);
        table.TryStartNext(2, null, out _);
        table.Complete(id, TaskState.Failed, null, "division by zero", 3);
        var failed = table.Get(id, Session).Events[^1];
        Assert.Equal((int)TaskState.Failed, failed.Code);
        Assert.Equal("division by zero", failed.Message);
    }

    [Fact]
    public void Complete_IsRefused_UnlessTheTaskIsRunning()
    {
        var table = new TaskTable();
        var id = table.Add(null, 1);
        var pending = Assert.Throws<FlameException>(() => table.Complete(id, TaskState.Succeed, null, null, 2));
        Assert.Equal(FlameErrorKind.FailedPrecondition, pending.Kind);
        table.TryStartNext(2, null, out _);
        table.Complete(id, TaskState.Succeed, null, null, 3);
        var twice = Assert.Throws<FlameException>(() => table.Complete(id, TaskState.Failed, null, "late", 4));
        Assert.Equal(FlameErrorKind.FailedPrecondition, twice.Kind);
        Assert.Equal(TaskState.Succeed, table.StateOf(id));
        Assert.Equal(1, table.CountOf(TaskState.Succeed));
        Assert.Equal(0, table.CountOf(TaskState.Failed));
    }

    [Fact]
    public void Requeue_PutsTheTaskBackLast_AndKeepsItsWholeHistory()
    {
        var table = new TaskTable();
        var first = table.Add(null, 1);
        var second = table.Add(null, 1);
        table.TryStartNext(2, null, out _);
        table.Requeue(first, "executor lost", 3);
        Assert.Equal(TaskState.Pending, table.StateOf(first));
        Assert.True(table.TryStartNext(4, null, out var next));
        Assert.Equal(second, next);
        Assert.True(table.TryStartNext(5, null, out next));
        Assert.Equal(first, next);
        Assert.Equal(2, table.AttemptsOf(first));
        table.Complete(first, TaskState.Succeed, null, null, 6);
        var events = table.Get(first, Session).Events;
        Assert.Equal([0, 1, 0, 1, 2], events.Select(e => e.Code));
        Assert.Equal("executor lost", events[2].Message);
    }

    [Fact]
    public void CancelPending_CancelsOnlyPendingTasks_AndCountsStayExact()
    {
        var table = new TaskTable();
        for (var i = 0; i < 5; i++)
            table.Add(null, 1);
        table.TryStartNext(2, null, out var running);
        Assert.Equal(4, table.CancelPending(3, "cancelled"));
        Assert.Equal(TaskState.Running, table.StateOf(running));
        Assert.Equal(4, table.CountOf(TaskState.Cancelled));
        Assert.Equal(0, table.CountOf(TaskState.Pending));
        Assert.Equal(1, table.CountOf(TaskState.Running));
        Assert.False(table.TryStartNext(4, null, out _));
        var cancelled = table.Get(5, Session);
        Assert.Equal(3, cancelled.CompletionTime);
        Assert.Equal((int)TaskState.Cancelled, cancelled.Events[^1].Code);
    }

    [Fact]
    public void Page_ReturnsTasksInIdOrder_WithACursor()
    {
        var table = new TaskTable();
        for (var i = 0; i < 25; i++)
            table.Add(null, 1);
        var ids = new List<long>();
        long after = 0;
        while (true)
        {
            var page = table.Page(after, 10, Session);
            ids.AddRange(page.Tasks.Select(t => t.Id));
            if (page.NextAfterId is not { } next)
                break;
            after = next;
        }
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), ids);
        Assert.Empty(table.Page(25, 10, Session).Tasks);
    }

    [Fact]
    public void QueueWrapsAround_WithoutLosingOrder()
    {
        var queue = new IntQueue();
        var expected = new Queue<int>();
        var next = 0;
        // Interleave so that the head moves around the ring while it grows.
        for (var round = 0; round < 200; round++)
        {
            for (var i = 0; i < 7; i++) { queue.Enqueue(next); expected.Enqueue(next++); }
            for (var i = 0; i < 5; i++) { Assert.True(queue.TryDequeue(out var v)); Assert.Equal(expected.Dequeue(), v); }
        }
        while (expected.Count > 0) { Assert.True(queue.TryDequeue(out var v)); Assert.Equal(expected.Dequeue(), v); }
        Assert.False(queue.TryDequeue(out _));
    }
    [Fact]
    public void Return_PutsTasksBackFirst_InTheirOrder_WithoutCountingAnAttempt()
    {
        var table = new TaskTable();
        for (var i = 0; i < 5; i++)
            table.Add(null, 1);
        table.TryStartNext(2, null, out var first);
        table.TryStartNext(2, null, out var second);
        table.TryStartNext(2, null, out var third);
        // Handed together (a window) and given back together, last first, as the session grain does.
        table.Return(third, "returned unstarted", 3);
        table.Return(second, "returned unstarted", 3);
        Assert.Equal(TaskState.Pending, table.StateOf(second));
        Assert.Equal(0, table.AttemptsOf(second));
        Assert.Equal(4, table.CountOf(TaskState.Pending));
        Assert.Throws<FlameException>(() => table.Return(4, "pending, not running", 3));
        var order = new List<long>();
        while (table.TryStartNext(4, null, out var next))
            order.Add(next);
        Assert.Equal([second, third, 4, 5], order);
        Assert.Equal(1, table.AttemptsOf(second));
        Assert.Equal(1, table.AttemptsOf(first));
        Assert.Equal("returned unstarted", table.Get(second, Session).Events[2].Message);
    }

    [Fact]
    public void QueueTakesItemsFirst_AcrossWrapAndGrowth()
    {
        var queue = new IntQueue();
        var expected = new LinkedList<int>();
        var next = 0;
        for (var round = 0; round < 100; round++)
        {
            for (var i = 0; i < 3; i++) { queue.Enqueue(next); expected.AddLast(next++); }
            for (var i = 0; i < 2; i++) { queue.EnqueueFirst(next); expected.AddFirst(next++); }
            for (var i = 0; i < 4; i++)
            {
                Assert.True(queue.TryDequeue(out var v));
                Assert.Equal(expected.First!.Value, v);
                expected.RemoveFirst();
            }
        }
        Assert.Equal(expected.Count, queue.Count);
        while (expected.Count > 0)
        {
            Assert.True(queue.TryDequeue(out var v));
            Assert.Equal(expected.First!.Value, v);
            expected.RemoveFirst();
        }
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void DropPayloads_DropsOnlyLargePayloadsOfFinishedTasks_AndNeverWritesThemAgain()
    {
        var table = new TaskTable();
        var large = new byte[64];
        var running = table.Add(large, 1);
        var finished = table.Add(large, 2);
        var small = table.Add([1], 3);
        Assert.True(table.TryStartNext(4, null, out _));
        Assert.True(table.TryStartNext(4, null, out _));
        Assert.True(table.TryStartNext(4, null, out _));
        table.Complete(finished, TaskState.Succeed, new byte[100], null, 5);
        table.Complete(small, TaskState.Succeed, [2], null, 5);

        Assert.False(table.DropPayloads(running, 64)); // running: its input is still needed
        Assert.True(table.DropPayloads(finished, 64));
        Assert.False(table.DropPayloads(small, 64));
        Assert.False(table.DropPayloads(finished, 64)); // once

        Assert.Same(large, table.Get(running, Session).Input);
        Assert.False(table.PayloadsInStore(running));
        var dropped = table.Get(finished, Session);
        Assert.True(table.PayloadsInStore(finished));
        Assert.Null(dropped.Input);
        Assert.Null(dropped.Output);
        Assert.Equal(TaskState.Succeed, dropped.State);
        Assert.Equal([1], table.Get(small, Session).Input);
        Assert.Equal([2], table.Get(small, Session).Output);
        // The store rewrites outputs with every write: a task it alone holds the payloads of is never written again.
        Assert.Throws<InvalidOperationException>(() => table.Snapshot(finished, withInput: false));
    }
}
