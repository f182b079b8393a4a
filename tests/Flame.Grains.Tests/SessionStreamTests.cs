using System.Threading.Channels;
using Flame.Grains;

namespace Flame.Grains.Tests;

[Collection(ExecutionClusterCollection.Name)]
public sealed class SessionStreamTests(ExecutionClusterFixture fixture)
{
    private readonly IGrainFactory _grains = fixture.Grains;

    private sealed class Finished : ISessionWatcher
    {
        public Channel<(IReadOnlyList<TaskInfo> Tasks, bool Done)> Batches { get; } = Channel.CreateUnbounded<(IReadOnlyList<TaskInfo>, bool)>();

        private readonly SessionBatchOrder _order = new();

        public Task OnTasksFinishedAsync(IReadOnlyList<TaskInfo> tasks, bool sessionDone, long batch)
        {
            foreach (var ready in _order.Accept(tasks, sessionDone, batch))
                Batches.Writer.TryWrite(ready);
            return Task.CompletedTask;
        }
    }

    private async Task<ISessionGrain> NewSessionAsync()
    {
        var app = "stream-" + Guid.NewGuid().ToString("N")[..8];
        await _grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key).RegisterAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var session = _grains.GetGrain<ISessionGrain>("stream-" + Guid.NewGuid().ToString("N")[..10]);
        await session.CreateAsync(new SessionSpec { Application = app });
        return session;
    }

    [Fact]
    public async Task CreateTasks_AddsConsecutiveIds_AllOrNothing()
    {
        var session = await NewSessionAsync();
        Assert.Equal(1, await session.CreateTasksAsync([[1], null, [3]]));
        Assert.Equal(4, await session.CreateTasksAsync([null]));
        var tooBig = new byte[ClusterFixture.Limits.MaxTaskInputBytes + 1];
        var ex = await Assert.ThrowsAsync<FlameException>(() => session.CreateTasksAsync([null, tooBig]));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("input 1", ex.Message);
        Assert.Equal(4, (await session.GetAsync()).Status.Pending); // nothing of the refused call was created
        Assert.Equal(new byte[] { 3 }, (await session.GetTaskAsync(3)).Input);
        await session.CloseAsync();
    }

    [Fact]
    public async Task WatchSession_StreamsEveryFinishedTask_AndSaysWhenTheSessionIsDone()
    {
        var session = await NewSessionAsync();
        await session.CreateTasksAsync(Enumerable.Repeat<byte[]?>(null, 1000).ToList());
        var watcher = new Finished();
        await session.WatchSessionAsync(_grains.CreateObjectReference<ISessionWatcher>(watcher));
        await session.CloseAsync();

        var seen = new List<TaskInfo>();
        while (true)
        {
            var (tasks, done) = await watcher.Batches.Reader.ReadAsync().AsTask().WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(20)));
            seen.AddRange(tasks);
            if (done)
                break;
        }
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), seen.Select(t => t.Id).Order());
        Assert.All(seen, t => Assert.Equal(TaskState.Cancelled, t.State));
        GC.KeepAlive(watcher);
    }
}
