using Flame.ExecutorManager.Executors;
using Flame.ExecutorManager.Tests.Support;
using Grpc.Core;

namespace Flame.ExecutorManager.Tests;

/// <summary>
/// The window loop as pure logic: a fake gateway (<see cref="FakeWindowGateway"/>) and a fake service
/// (<see cref="FakeTaskRunner"/>), with a clock that stands still, so that every task takes no time and the window
/// opens fully after the first (a loaded machine cannot make a task look long); the give-back waits real time.
/// </summary>
public sealed class TaskWindowLoopTests
{
    private sealed class FrozenClock : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }

    private static (string Id, string Input)[] Tasks(int count, string input = "ok") =>
        [.. Enumerable.Range(1, count).Select(i => ($"{i}", $"{input}{i}"))];

    /// <summary>A loop's run, bounded: a loop that never ends fails its test instead of hanging it.</summary>
    private static Task<bool> RunAsync(FakeWindowGateway gateway, FakeTaskRunner runner, int maxWindow = 8) =>
        new TaskWindowLoop(gateway, runner, "e1", maxWindow, new FrozenClock()).RunAsync(gateway.First(), CancellationToken.None).WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(30)));

    [Fact]
    public async Task RunsEveryTaskOnce_AndReportsEachResultWithItsLaunch_SeveralToAMessage()
    {
        var gateway = new FakeWindowGateway(Tasks(40));
        var runner = new FakeTaskRunner();

        var gone = await RunAsync(gateway, runner);

        Assert.False(gone);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => $"{i}"), runner.Invocations.Select(i => i.TaskId));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => ($"{i}", $"ok{i}")), gateway.Results.Select(r => (r.TaskId, r.Output)));
        Assert.Empty(gateway.Stray);
        // The window opened after the first task and the executor held several tasks at once.
        Assert.Equal(8u, gateway.Requests[0].Window);
        Assert.Contains(gateway.Requests, r => r.Holding > 1);
        Assert.All(gateway.Requests, r => Assert.True(r.Holding <= r.Window || r.Window == 1, $"held {r.Holding} beyond the window {r.Window}"));
        Assert.DoesNotContain(gateway.Requests, r => r.Leaving || r.Returned.Count > 0);
        // The last request held nothing, reported the last result, and was answered with no work: unbind.
        Assert.Equal(0u, gateway.Requests[^1].Holding);
    }

    [Fact]
    public async Task HoldsNoMoreThanTheConfiguredWindow_WhenTheGatewayGrantsMore()
    {
        var gateway = new FakeWindowGateway(Tasks(30));

        await RunAsync(gateway, new FakeTaskRunner(), maxWindow: 3);

        Assert.All(gateway.Requests, r => Assert.InRange(r.Window, 1u, 3u));
        Assert.Equal(30, gateway.Results.Count);
    }

    [Fact]
    public async Task GivesBackTheTasksQueuedBehindALongTask_AndRunsEachTaskOnce()
    {
        // Short tasks open the window; then a long one with tasks queued behind it.
        var gateway = new FakeWindowGateway([.. Tasks(3), ("long", "hang"), .. Tasks(6, "after").Select(t => ($"after{t.Id}", t.Input))]);
        var runner = new FakeTaskRunner();
        var loop = RunAsync(gateway, runner);

        await gateway.WaitForAsync(rs => rs.Any(r => r.Returned.Count > 0), "the queued tasks given back");
        var giveBack = gateway.Requests.First(r => r.Returned.Count > 0);
        // While the long task runs: nothing behind it started, and the executor asks for no more.
        Assert.Equal(["1", "2", "3", "long"], runner.Invocations.Select(i => i.TaskId));
        Assert.Equal((1u, 1u), (giveBack.Window, giveBack.Holding));
        runner.Release.SetResult();
        Assert.False(await loop);

        Assert.Equal(10, gateway.Results.Count);
        Assert.Equal(gateway.Results.Select(r => r.TaskId).Distinct().Count(), gateway.Results.Count);
        Assert.Equal(10, runner.Invocations.Count);
        Assert.Empty(gateway.Stray);
    }

    [Fact]
    public async Task ReportsWhatRan_GivesBackWhatDidNotStart_AndLeaves_WhenTheServiceDies()
    {
        var gateway = new FakeWindowGateway([.. Tasks(4), ("dies", "crash"), .. Tasks(5, "never").Select(t => ($"never{t.Id}", t.Input))]);
        var runner = new FakeTaskRunner();

        var gone = await RunAsync(gateway, runner);

        Assert.True(gone);
        Assert.Equal(["1", "2", "3", "4", "dies"], runner.Invocations.Select(i => i.TaskId));
        Assert.Equal(["1", "2", "3", "4", "dies"], gateway.Results.Select(r => r.TaskId));
        var last = gateway.Requests[^1];
        Assert.True(last.Leaving, "the executor's last request says it leaves");
        Assert.Equal(0u, last.Holding);
        // Whatever the executor held and never started went back (a window of 8 held all five).
        Assert.Equal(5, last.Returned.Count);
        Assert.Empty(gateway.Stray);
    }

    [Fact]
    public async Task SendsTheNextShortTaskBehindTheRunningOne_WhenTheServiceTakesAStream_ButNoLargeInput()
    {
        var large = new string('x', TaskWindowLoop.MaxBehindInputBytes + 1);
        var gateway = new FakeWindowGateway([.. Tasks(6), ("large", large), .. Tasks(3, "tail").Select(t => ($"tail{t.Id}", t.Input))]);
        var runner = new FakeTaskRunner(canPipeline: true);

        Assert.False(await RunAsync(gateway, runner));

        var invocations = runner.Invocations.ToList();
        Assert.Equal(10, gateway.Results.Count);
        // A task sent behind another is the next one run, marked as sent already.
        for (var i = 0; i + 1 < invocations.Count; i++)
        {
            if (invocations[i].Behind is { } behind)
                Assert.Equal((behind, true), (invocations[i + 1].TaskId, invocations[i + 1].Sent));
        }
        Assert.Contains(invocations, i => i.Behind is not null);
        Assert.DoesNotContain(invocations, i => i.Behind == "large");
    }

    [Fact]
    public async Task KillsTheServiceAndWaitsForItsTask_WhenAnExchangeFailsWhileATaskRuns()
    {
        var gateway = new FakeWindowGateway([.. Tasks(3), ("long", "hang"), .. Tasks(3, "after").Select(t => ($"after{t.Id}", t.Input))]);
        var runner = new FakeTaskRunner();
        // The exchange in flight when the long task starts (the one with the result of task 3) fails: the binding is
        // abandoned as soon as the loop sees it, with the long task still running.
        gateway.Fail = r => r.MoreResults.Any(m => m.TaskId == "3") ? new RpcException(new Status(StatusCode.Internal, "the gateway failed")) : null;

        var failed = await Assert.ThrowsAsync<RpcException>(() => RunAsync(gateway, runner));

        Assert.Equal(StatusCode.Internal, failed.StatusCode);
        Assert.True(runner.Killed, "the service of an abandoned binding is killed");
        Assert.Equal(0, runner.Running);
    }
}
