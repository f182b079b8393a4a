using System.Threading.Channels;
using Flame.Grains;

namespace Flame.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class SessionGrainTests(ClusterFixture fixture)
{
    private readonly IGrainFactory _grains = fixture.Grains;

    private IApplicationRegistryGrain Registry => _grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key);

    private async Task<string> NewApplicationAsync()
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..8];
        await Registry.RegisterAsync(name, new ApplicationSpec { Command = "/bin/true" });
        return name;
    }

    private async Task<ISessionGrain> NewSessionAsync(SessionSpec? spec = null)
    {
        spec ??= new SessionSpec { Application = await NewApplicationAsync() };
        var session = _grains.GetGrain<ISessionGrain>("s-" + Guid.NewGuid().ToString("N")[..12]);
        await session.CreateAsync(spec);
        return session;
    }

    private static async Task<FlameErrorKind> KindOf(Func<Task> call) =>
        (await Assert.ThrowsAsync<FlameException>(call)).Kind;

    [Fact]
    public async Task CreateSession_Fails_WhenApplicationIsUnknown()
    {
        var session = _grains.GetGrain<ISessionGrain>("orphan-" + Guid.NewGuid().ToString("N")[..8]);
        var ex = await Assert.ThrowsAsync<FlameException>(() => session.CreateAsync(new SessionSpec { Application = "no-such-app" }));
        Assert.Equal(FlameErrorKind.NotFound, ex.Kind);
        Assert.Contains("no-such-app", ex.Message);
        // Nothing was left behind: the session still does not exist.
        Assert.Equal(FlameErrorKind.NotFound, await KindOf(() => session.GetAsync()));
    }

    [Fact]
    public async Task CreateSession_Fails_WhenTheIdIsTaken()
    {
        var session = await NewSessionAsync();
        var existing = await session.GetAsync();
        Assert.Equal(FlameErrorKind.AlreadyExists, await KindOf(() => session.CreateAsync(existing.Spec)));
    }

    [Fact]
    public async Task CreateSession_Fails_ForAMalformedId()
    {
        var session = _grains.GetGrain<ISessionGrain>("bad id!");
        var spec = new SessionSpec { Application = await NewApplicationAsync() };
        Assert.Equal(FlameErrorKind.InvalidArgument, await KindOf(() => session.CreateAsync(spec)));
    }

    [Fact]
    public async Task CreateSession_Fails_WhenCommonDataExceedsTheLimit()
    {
        var spec = new SessionSpec
        {
            Application = await NewApplicationAsync(),
            CommonData = new byte[ClusterFixture.Limits.MaxCommonDataBytes + 1],
        };
        var session = _grains.GetGrain<ISessionGrain>("big-" + Guid.NewGuid().ToString("N")[..8]);
        var ex = await Assert.ThrowsAsync<FlameException>(() => session.CreateAsync(spec));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("MaxCommonDataBytes", ex.Message);
    }

    [Fact]
    public async Task OpenSession_ReturnsTheExistingSession_AndRefusesAContradictingSpec()
    {
        var session = await NewSessionAsync();
        var existing = await session.GetAsync();
        Assert.Equal(existing.Status.CreationTime, (await session.OpenAsync(null)).Status.CreationTime);
        Assert.Equal(existing.Id, (await session.OpenAsync(existing.Spec)).Id);
        var ex = await Assert.ThrowsAsync<FlameException>(() => session.OpenAsync(existing.Spec with { Priority = 9 }));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("priority", ex.Message);
    }

    [Fact]
    public async Task OpenSession_CreatesAMissingSession_OnlyWithASpec()
    {
        var session = _grains.GetGrain<ISessionGrain>("open-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(FlameErrorKind.NotFound, await KindOf(() => session.OpenAsync(null)));
        var opened = await session.OpenAsync(new SessionSpec { Application = await NewApplicationAsync() });
        Assert.Equal(SessionState.Open, opened.Status.State);
    }

    [Fact]
    public async Task CreateTask_EnqueuesPendingTasks_WithSequentialIds()
    {
        var session = await NewSessionAsync();
        var first = await session.CreateTaskAsync([1]);
        var second = await session.CreateTaskAsync(null);
        Assert.Equal(1, first.Id);
        Assert.Equal(2, second.Id);
        Assert.Equal(TaskState.Pending, first.State);
        Assert.Equal(new byte[] { 1 }, (await session.GetTaskAsync(1)).Input);
        Assert.Equal(2, (await session.GetAsync()).Status.Pending);
    }

    [Fact]
    public async Task CreateTask_Fails_WhenInputExceedsTheLimit_AndCreatesNothing()
    {
        var session = await NewSessionAsync();
        var ex = await Assert.ThrowsAsync<FlameException>(() => session.CreateTaskAsync(new byte[ClusterFixture.Limits.MaxTaskInputBytes + 1]));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("MaxTaskInputBytes", ex.Message);
        Assert.Equal(0, (await session.GetAsync()).Status.Pending);
        Assert.Equal(1, (await session.CreateTaskAsync(new byte[ClusterFixture.Limits.MaxTaskInputBytes])).Id);
    }

    [Fact]
    public async Task CloseSession_CancelsPendingTasks_RefusesNewOnes_AndIsIdempotent()
    {
        var session = await NewSessionAsync();
        for (var i = 0; i < 3; i++)
            await session.CreateTaskAsync(null);
        var closed = await session.CloseAsync();
        Assert.Equal(SessionState.Closed, closed.Status.State);
        Assert.NotNull(closed.Status.CompletionTime);
        Assert.Equal(0, closed.Status.Pending);
        Assert.Equal(3, closed.Status.Cancelled);
        Assert.Equal(TaskState.Cancelled, (await session.GetTaskAsync(2)).State);
        Assert.Equal(FlameErrorKind.InvalidArgument, await KindOf(() => session.CreateTaskAsync(null)));
        var again = await session.CloseAsync();
        Assert.Equal(closed.Status.CompletionTime, again.Status.CompletionTime);
        Assert.Equal(3, again.Status.Cancelled);
    }

    [Fact]
    public async Task DeleteSession_RequiresAClosedSession_ThenForgetsIt()
    {
        var session = await NewSessionAsync();
        var id = session.GetPrimaryKeyString();
        Assert.Equal(FlameErrorKind.FailedPrecondition, await KindOf(() => session.DeleteAsync()));
        await session.CloseAsync();
        var deleted = await session.DeleteAsync();
        Assert.Equal(id, deleted.Id);
        Assert.Equal(FlameErrorKind.NotFound, await KindOf(() => session.GetAsync()));
        var listed = await _grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).ListAsync();
        Assert.DoesNotContain(id, listed);
    }

    [Fact]
    public async Task GetTask_Fails_ForAnUnknownTask()
    {
        var session = await NewSessionAsync();
        Assert.Equal(FlameErrorKind.NotFound, await KindOf(() => session.GetTaskAsync(1)));
    }

    [Fact]
    public async Task ListTasks_PagesThroughEveryTask()
    {
        var session = await NewSessionAsync();
        for (var i = 0; i < 12; i++)
            await session.CreateTaskAsync(null);
        var page = await session.ListTasksAsync(0, 5);
        Assert.Equal([1L, 2, 3, 4, 5], page.Tasks.Select(t => t.Id));
        Assert.Equal(5, page.NextAfterId);
        var last = await session.ListTasksAsync(10, 5);
        Assert.Equal([11L, 12], last.Tasks.Select(t => t.Id));
        Assert.Null(last.NextAfterId);
    }

    [Fact]
    public async Task Watchers_AreToldWhenATaskChanges()
    {
        var session = await NewSessionAsync();
        await session.CreateTaskAsync(null);
        var watcher = new RecordingWatcher();
        var reference = _grains.CreateObjectReference<ITaskWatcher>(watcher);
        var now = await session.WatchTaskAsync(1, reference);
        Assert.Equal(TaskState.Pending, now.State);
        await session.CloseAsync();
        var changed = await watcher.Changes.Reader.ReadAsync().AsTask().WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(10)));
        Assert.Equal(TaskState.Cancelled, changed.State);
        Assert.Equal(2, changed.Events.Count);
        GC.KeepAlive(watcher);
    }

    [Fact]
    public async Task Counters_StayExact_UnderConcurrentCreates()
    {
        var session = await NewSessionAsync();
        var created = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => session.CreateTaskAsync(null)));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), created.Select(t => t.Id).Order());
        Assert.Equal(200, (await session.GetAsync()).Status.Pending);
    }

    private sealed class RecordingWatcher : ITaskWatcher
    {
        public Channel<TaskInfo> Changes { get; } = Channel.CreateUnbounded<TaskInfo>();

        public Task OnTaskChangedAsync(TaskInfo task)
        {
            Changes.Writer.TryWrite(task);
            return Task.CompletedTask;
        }
    }
}
