using System.Runtime.CompilerServices;

namespace Flame.Client.Tests;

/// <summary>WatchTask and WatchSession resumed after their gateway died: what the caller sees, on scripted streams.</summary>
public sealed class ResumingStreamsTests
{
    private static TaskInfo Task(long id, TaskState state, int events = 1) => new()
    {
        Id = id,
        SessionId = "s",
        State = state,
        CreationTime = 0,
        Events = [.. Enumerable.Range(0, events).Select(i => new FlameEvent { Code = 0, CreationTime = i })],
    };

    private static FlameException Unavailable() => new(FlameErrorKind.Unavailable, "Error reading next message: connection reset");

    /// <summary>The items, then the end of the stream or <paramref name="fault"/>.</summary>
    private static async IAsyncEnumerable<T> Scripted<T>(IEnumerable<T> items, Exception? fault, [EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var item in items)
        {
            await System.Threading.Tasks.Task.Yield();
            yield return item;
        }
        if (fault is not null)
            throw fault;
    }

    [Fact]
    public async Task A_session_watch_that_breaks_reports_every_finished_task_once_across_the_new_stream_and_the_catch_up()
    {
        var opened = 0;
        IAsyncEnumerable<IReadOnlyList<TaskInfo>> Open(CancellationToken ct) => ++opened switch
        {
            1 => Scripted<IReadOnlyList<TaskInfo>>([[], [Task(1, TaskState.Succeed), Task(2, TaskState.Succeed)]], Unavailable()),
            // The new stream repeats task 2 and brings task 3; tasks 3 and 4 finished while no stream was open.
            _ => Scripted<IReadOnlyList<TaskInfo>>([[], [Task(2, TaskState.Succeed), Task(3, TaskState.Failed)], [Task(5, TaskState.Succeed)]], null),
        };
        IAsyncEnumerable<TaskInfo> List(CancellationToken ct) => Scripted(
            [Task(1, TaskState.Succeed), Task(2, TaskState.Succeed), Task(3, TaskState.Failed), Task(4, TaskState.Succeed), Task(5, TaskState.Running)], null);

        var seen = new List<long>();
        await foreach (var batch in ResumingStreams.WatchSessionAsync(Open, List, reached: false, CancellationToken.None))
            seen.AddRange(batch.Select(t => t.Id));

        Assert.Equal(2, opened);
        Assert.Equal([1, 2, 3, 4, 5], seen.Order());
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task A_task_watch_that_breaks_resumes_without_repeating_the_state_it_reported_last()
    {
        var opened = 0;
        IAsyncEnumerable<TaskInfo> Open(CancellationToken ct) => ++opened switch
        {
            1 => Scripted([Task(7, TaskState.Pending), Task(7, TaskState.Running, 2)], Unavailable()),
            _ => Scripted([Task(7, TaskState.Running, 2), Task(7, TaskState.Succeed, 3)], null),
        };

        var seen = new List<TaskState>();
        await foreach (var task in ResumingStreams.WatchTaskAsync(Open, reached: false, CancellationToken.None))
            seen.Add(task.State);

        Assert.Equal(2, opened);
        Assert.Equal([TaskState.Pending, TaskState.Running, TaskState.Succeed], seen);
    }

    [Fact]
    public async Task A_watch_whose_gateways_never_answered_fails_at_once()
    {
        var opened = 0;
        IAsyncEnumerable<TaskInfo> Open(CancellationToken ct)
        {
            opened++;
            return Scripted(Array.Empty<TaskInfo>(), Unavailable());
        }

        var error = await Assert.ThrowsAsync<FlameException>(async () =>
        {
            await foreach (var _ in ResumingStreams.WatchTaskAsync(Open, reached: false, CancellationToken.None))
            {
            }
        });
        Assert.Equal((FlameErrorKind.Unavailable, 1), (error.Kind, opened));
    }

    [Fact]
    public async Task A_watch_is_not_resumed_after_an_error_that_another_gateway_would_repeat()
    {
        var opened = 0;
        IAsyncEnumerable<TaskInfo> Open(CancellationToken ct)
        {
            opened++;
            return Scripted([Task(1, TaskState.Pending)], new FlameException(FlameErrorKind.NotFound, "session 's' not found"));
        }

        var error = await Assert.ThrowsAsync<FlameException>(async () =>
        {
            await foreach (var _ in ResumingStreams.WatchTaskAsync(Open, reached: true, CancellationToken.None))
            {
            }
        });
        Assert.Equal((FlameErrorKind.NotFound, 1), (error.Kind, opened));
    }

    [Fact]
    public async Task A_watch_cancelled_by_something_other_than_the_caller_resumes_as_if_its_gateway_had_died()
    {
        var opened = 0;
        IAsyncEnumerable<IReadOnlyList<TaskInfo>> Open(CancellationToken ct) => ++opened switch
        {
            // What the channel throws when it gives a call up during a cluster restart (ThrowOperationCanceledOnCancellation).
            1 => Scripted<IReadOnlyList<TaskInfo>>([[], [Task(1, TaskState.Succeed)]], new TaskCanceledException()),
            _ => Scripted<IReadOnlyList<TaskInfo>>([[], [Task(2, TaskState.Succeed)]], null),
        };
        IAsyncEnumerable<TaskInfo> List(CancellationToken ct) => Scripted([Task(1, TaskState.Succeed), Task(2, TaskState.Running)], null);

        var seen = new List<long>();
        await foreach (var batch in ResumingStreams.WatchSessionAsync(Open, List, reached: false, CancellationToken.None))
            seen.AddRange(batch.Select(t => t.Id));

        Assert.Equal(2, opened);
        Assert.Equal([1, 2], seen);
    }

    [Fact]
    public async Task A_watch_cancelled_by_the_caller_is_not_resumed()
    {
        using var cancel = new CancellationTokenSource();
        var opened = 0;
        IAsyncEnumerable<TaskInfo> Open(CancellationToken ct)
        {
            opened++;
            cancel.Cancel();
            return Scripted([Task(1, TaskState.Pending)], new OperationCanceledException(ct));
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in ResumingStreams.WatchTaskAsync(Open, reached: true, cancel.Token))
            {
            }
        });
        Assert.Equal(1, opened);
    }
}
