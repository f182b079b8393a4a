using Flame.Grains.Hosting;
using Flame.Grains.Sessions;
using Microsoft.Extensions.Time.Testing;

namespace Flame.Grains.Tests.Sessions;

public sealed class TaskOutcomesTests
{
    private static (TaskOutcomes Outcomes, TaskTable Tasks, List<long> Changed) New(bool retryApplicationErrors = false)
    {
        var tasks = new TaskTable();
        var changed = new List<long>();
        var execution = new FlameExecutionOptions { MaxTaskAttempts = 2, RetryApplicationErrors = retryApplicationErrors };
        var limits = new FlameLimitsOptions { MaxTaskOutputBytes = 4 };
        return (new TaskOutcomes(() => tasks, limits, execution, new FakeTimeProvider(), changed.Add), tasks, changed);
    }

    private static long Running(TaskTable tasks)
    {
        tasks.Add(null, 0);
        Assert.True(tasks.TryStartNext(0, null, out var id));
        return id;
    }

    [Fact]
    public void ASuccess_WithAnOutputOverTheLimit_FailsTheTask()
    {
        var (outcomes, tasks, changed) = New();
        var id = Running(tasks);
        outcomes.Record(id, new TaskResultInfo { Output = [1, 2, 3, 4, 5] });
        Assert.Equal(TaskState.Failed, tasks.StateOf(id));
        Assert.Contains("MaxTaskOutputBytes", tasks.Get(id, "s").Events[^1].Message);
        Assert.Equal([id], changed);
    }

    [Fact]
    public void TheServicesOwnError_FailsTheTaskAtOnce_ButASystemFailureCostsAnAttempt()
    {
        var (outcomes, tasks, _) = New();
        var own = Running(tasks);
        outcomes.Record(own, new TaskResultInfo { ReturnCode = 1, Message = "ValueError: bad" });
        Assert.Equal((TaskState.Failed, "ValueError: bad"), (tasks.StateOf(own), tasks.Get(own, "s").Events[^1].Message));

        var lost = Running(tasks);
        outcomes.Record(lost, new TaskResultInfo { ReturnCode = 1, SystemFailure = true, Message = "the process died" });
        Assert.Equal(TaskState.Pending, tasks.StateOf(lost));
        Assert.True(tasks.TryStartNext(0, null, out var again));
        outcomes.FailAttempt(again, "the process died");
        Assert.Equal(TaskState.Failed, tasks.StateOf(lost));
        Assert.Equal("attempt 2 of 2 failed: the process died", tasks.Get(lost, "s").Events[^1].Message);
    }

    [Fact]
    public void WithRetryApplicationErrors_TheServicesOwnErrorCostsAnAttempt()
    {
        var (outcomes, tasks, _) = New(retryApplicationErrors: true);
        var id = Running(tasks);
        outcomes.Record(id, new TaskResultInfo { ReturnCode = 3 });
        Assert.Equal(TaskState.Pending, tasks.StateOf(id));
    }
}
