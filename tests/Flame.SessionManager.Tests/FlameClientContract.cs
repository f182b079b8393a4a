using System.Text;
using Flame.Client;
using Flame.SessionManager.Tests.Support;

namespace Flame.SessionManager.Tests;

/// <summary>
/// What every <see cref="IFlameClient"/> transport must do, run once per transport by the subclasses below:
/// the same calls give the same results, and the same errors the same <see cref="FlameErrorKind"/>.
/// </summary>
public abstract partial class FlameClientContract(GatewayFixture gateway) : IAsyncLifetime
{
    protected GatewayFixture Gateway { get; } = gateway;

    protected IFlameClient Client { get; private set; } = null!;

    protected abstract IFlameClient CreateClient();

    public Task InitializeAsync()
    {
        Client = CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Client.DisposeAsync();

    // ---------------------------------------------------------------- applications

    private static ApplicationSpec FullSpec() => new()
    {
        Shim = Shim.Host,
        Description = "computes pi",
        Labels = ["math", "demo"],
        Image = "registry.example/pi:1",
        Command = "/usr/bin/pi-service",
        Arguments = ["--precision", "high precision"],
        Environments = [new EnvironmentVariable { Name = "RUST_LOG", Value = "info" }, new EnvironmentVariable { Name = "EMPTY" }],
        WorkingDirectory = "/var/lib/pi",
        MaxInstances = 3,
        DelayRelease = 0,
        Schema = new ApplicationSchema { Input = "u64", Output = "f64" },
        Url = "https://example.org/pi.tar.gz",
        Installer = "tar",
    };

    private static void AssertSameSpec(ApplicationSpec expected, ApplicationSpec actual)
    {
        // Records compare lists by reference: compare them element by element, the rest as records.
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.Arguments, actual.Arguments);
        Assert.Equal(expected.Environments, actual.Environments);
        Assert.Equal(
            expected with { Labels = [], Arguments = [], Environments = [] },
            actual with { Labels = [], Arguments = [], Environments = [] });
    }

    [Fact]
    public async Task Applications_RoundTripEveryField_AndCanBeUpdatedAndUnregistered()
    {
        var name = Names.Unique("capp");
        var spec = FullSpec();

        await Client.RegisterApplicationAsync(name, spec);

        var app = await Client.GetApplicationAsync(name);
        Assert.Equal(name, app.Name);
        Assert.Equal(ApplicationState.Enabled, app.State);
        AssertSameSpec(spec, app.Spec);
        var listed = Assert.Single(await Client.ListApplicationsAsync().ToListAsync(), a => a.Name == name);
        AssertSameSpec(spec, listed.Spec);

        var minimal = new ApplicationSpec { Command = "/bin/true" };
        await Client.UpdateApplicationAsync(name, minimal);
        var updated = await Client.GetApplicationAsync(name);
        AssertSameSpec(minimal, updated.Spec);
        Assert.Null(updated.Spec.Description);
        Assert.Null(updated.Spec.DelayRelease);
        Assert.Null(updated.Spec.Schema);
        Assert.Equal(app.CreationTime, updated.CreationTime);

        await Client.UnregisterApplicationAsync(name);
        await AssertFailsAsync(FlameErrorKind.NotFound, () => Client.GetApplicationAsync(name), name);
        Assert.DoesNotContain(await Client.ListApplicationsAsync().ToListAsync(), a => a.Name == name);
    }

    // ---------------------------------------------------------------- sessions

    [Fact]
    public async Task CreateSessionAsync_UsesTheGivenId_OrPicksOne()
    {
        var app = await RegisterAppAsync();
        var id = Names.Unique("cs");
        var spec = new SessionSpec
        {
            Application = app,
            CommonData = [1, 2, 3],
            MinInstances = 1,
            MaxInstances = 2,
            BatchSize = 4,
            Priority = 5,
            ResReq = new ResourceRequirement { Cpu = 2, Memory = 1024, Gpu = 0 },
        };

        var chosen = await Client.CreateSessionAsync(id, spec);
        var picked = await Client.CreateSessionAsync(null, new SessionSpec { Application = app });

        Assert.Equal(id, chosen.Id);
        Assert.Equal(spec.CommonData, chosen.Spec.CommonData);
        Assert.Equal(spec with { CommonData = null }, chosen.Spec with { CommonData = null });
        Assert.Equal(SessionState.Open, chosen.Status.State);
        Assert.Null(chosen.Status.CompletionTime);
        Assert.StartsWith(app + "-", picked.Id);
        Assert.Null(picked.Spec.CommonData);
        Assert.Null(picked.Spec.MaxInstances);
        Assert.Equal(new ResourceRequirement { Cpu = 1, Memory = 1UL << 30 }, picked.Spec.ResReq); // the cluster's default
        var got = await Client.GetSessionAsync(picked.Id);
        Assert.Equal((picked.Id, picked.Status.CreationTime), (got.Id, got.Status.CreationTime));
    }

    [Fact]
    public async Task OpenSessionAsync_GetsOrCreates_AndRefusesAContradictingSpec()
    {
        var app = await RegisterAppAsync();
        var id = Names.Unique("co");
        var spec = new SessionSpec { Application = app, Priority = 2 };

        var created = await Client.OpenSessionAsync(id, spec);
        await Client.CreateTaskAsync(id, null);
        var reopened = await Client.OpenSessionAsync(id);
        var reopenedWithSpec = await Client.OpenSessionAsync(id, spec with { });

        Assert.Equal(id, created.Id);
        Assert.All(new[] { reopened, reopenedWithSpec }, s =>
        {
            Assert.Equal(created.Status.CreationTime, s.Status.CreationTime);
            Assert.Equal(1, s.Status.Pending);
        });
        await AssertFailsAsync(FlameErrorKind.InvalidArgument,
            () => Client.OpenSessionAsync(id, spec with { Application = app + "-other" }), "application");
        await AssertFailsAsync(FlameErrorKind.InvalidArgument,
            () => Client.OpenSessionAsync(id, spec with { Priority = 3 }), "priority");
        await AssertFailsAsync(FlameErrorKind.NotFound, () => Client.OpenSessionAsync(Names.Unique("co-missing")));
    }

    [Fact]
    public async Task CloseSessionAsync_CancelsThePendingTasks_IsIdempotent_AndThenDeleteSessionAsyncRemovesIt()
    {
        var id = await NewSessionAsync();
        for (var i = 0; i < 3; i++)
            await Client.CreateTaskAsync(id, [(byte)i]);
        await AssertCountersAsync(id, pending: 3);
        await AssertFailsAsync(FlameErrorKind.FailedPrecondition, () => Client.DeleteSessionAsync(id), "open");

        var closed = await Client.CloseSessionAsync(id);
        var again = await Client.CloseSessionAsync(id);

        Assert.Equal(SessionState.Closed, closed.Status.State);
        Assert.NotNull(closed.Status.CompletionTime);
        Assert.Equal(closed.Status.CompletionTime, again.Status.CompletionTime);
        Assert.Equal(closed.Status.Events.Count, again.Status.Events.Count);
        await AssertCountersAsync(id, cancelled: 3);
        await AssertFailsAsync(FlameErrorKind.InvalidArgument, () => Client.OpenSessionAsync(id), "not open");

        var deleted = await Client.DeleteSessionAsync(id);

        Assert.Equal((id, SessionState.Closed, 3), (deleted.Id, deleted.Status.State, deleted.Status.Cancelled));
        await AssertFailsAsync(FlameErrorKind.NotFound, () => Client.GetSessionAsync(id), id);
        Assert.DoesNotContain(await Client.ListSessionsAsync().ToListAsync(), s => s.Id == id);
    }

    [Fact]
    public async Task ListSessionsAsync_YieldsTheSessionsOldestFirst_AsGetSessionAsyncShowsThem()
    {
        var app = await RegisterAppAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await Client.CreateSessionAsync(Names.Unique($"cl{i}"), new SessionSpec { Application = app })).Id);
        await Client.CreateTaskAsync(ids[0], null);
        await Client.CloseSessionAsync(ids[1]);

        var ours = (await Client.ListSessionsAsync().ToListAsync()).Where(s => ids.Contains(s.Id)).ToList();

        Assert.Equal(ids, ours.Select(s => s.Id));
        foreach (var session in ours)
        {
            var got = await Client.GetSessionAsync(session.Id);
            Assert.Equal(got.Status with { Events = [] }, session.Status with { Events = [] });
            Assert.Equal(got.Status.Events, session.Status.Events);
        }
    }

    // ---------------------------------------------------------------- tasks

    [Fact]
    public async Task CreateTaskAsync_AndGetTaskAsync_RoundTripTheInput_NullEmptyOrBytes()
    {
        var id = await NewSessionAsync();

        var withBytes = await Client.CreateTaskAsync(id, Encoding.UTF8.GetBytes("hello"));
        var withNull = await Client.CreateTaskAsync(id, null);
        var withEmpty = await Client.CreateTaskAsync(id, []);

        Assert.Equal([1L, 2L, 3L], new[] { withBytes.Id, withNull.Id, withEmpty.Id });
        Assert.All(new[] { withBytes, withNull, withEmpty }, t =>
        {
            Assert.Equal(id, t.SessionId);
            Assert.Equal(TaskState.Pending, t.State);
            Assert.Null(t.CompletionTime);
            Assert.Null(t.Output);
            Assert.Equal([(int)TaskState.Pending], t.Events.Select(e => e.Code));
        });
        Assert.Equal("hello", Encoding.UTF8.GetString((await Client.GetTaskAsync(id, 1)).Input!));
        Assert.Null((await Client.GetTaskAsync(id, 2)).Input);
        Assert.Empty(Assert.IsType<byte[]>((await Client.GetTaskAsync(id, 3)).Input));
        await AssertCountersAsync(id, pending: 3);
    }

    [Fact]
    public async Task ListTasksAsync_YieldsEveryTaskInIdOrder_AcrossPages()
    {
        const int count = 1_500; // more than one page of the in-process transport (1,000)
        var id = await NewSessionAsync();
        using var gate = new SemaphoreSlim(32);
        await Wait.For(Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var task = await Client.CreateTaskAsync(id, null);
                Assert.InRange(task.Id, 1, count);
            }
            finally
            {
                gate.Release();
            }
        })), $"{count} tasks to be created");

        var tasks = await Client.ListTasksAsync(id).ToListAsync();

        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), tasks.Select(t => t.Id));
        Assert.All(tasks, t => Assert.Equal((id, TaskState.Pending), (t.SessionId, t.State)));
        await AssertCountersAsync(id, pending: count);
    }

    [Fact]
    public async Task ListTasksAsync_YieldsNothing_ForASessionWithoutTasks()
    {
        var id = await NewSessionAsync();

        Assert.Empty(await Client.ListTasksAsync(id).ToListAsync());
    }

    [Fact]
    public async Task WatchTaskAsync_YieldsPendingThenCancelled_AndEnds()
    {
        var id = await NewSessionAsync();
        await Client.CreateTaskAsync(id, null);
        await using var watch = Client.WatchTaskAsync(id, 1).GetAsyncEnumerator();

        Assert.True(await Wait.For(watch.MoveNextAsync().AsTask(), "Pending at once"));
        Assert.Equal(TaskState.Pending, watch.Current.State);
        await Client.CloseSessionAsync(id);
        Assert.True(await Wait.For(watch.MoveNextAsync().AsTask(), "Cancelled after the close"));
        Assert.Equal((1L, id, TaskState.Cancelled), (watch.Current.Id, watch.Current.SessionId, watch.Current.State));
        Assert.NotNull(watch.Current.CompletionTime);
        Assert.False(await Wait.For(watch.MoveNextAsync().AsTask(), "the end after Cancelled"), "the watch ends after a terminal state");
    }

    [Fact]
    public async Task WatchTaskAsync_OfAFinishedTask_YieldsTheFinalStateOnly()
    {
        var id = await NewSessionAsync();
        await Client.CreateTaskAsync(id, null);
        await Client.CloseSessionAsync(id);

        var states = await Wait.For(Client.WatchTaskAsync(id, 1).ToListAsync().AsTask(), "the watch of a finished task to end");

        Assert.Equal([TaskState.Cancelled], states.Select(t => t.State));
    }

    [Fact]
    public async Task WatchTaskAsync_DeliversCancelledToEveryWatcher_WhenOneStopsEarly()
    {
        const int watchers = 50;
        var id = await NewSessionAsync();
        await Client.CreateTaskAsync(id, null);
        var enumerators = Enumerable.Range(0, watchers).Select(_ => Client.WatchTaskAsync(id, 1).GetAsyncEnumerator()).ToList();
        try
        {
            await Wait.For(Task.WhenAll(enumerators.Select(async e =>
            {
                Assert.True(await e.MoveNextAsync(), "a watch yields the current state first");
                Assert.Equal(TaskState.Pending, e.Current.State);
            })), $"{watchers} watchers to see Pending");
            await enumerators[0].DisposeAsync(); // stops early
            await using (var late = Client.WatchTaskAsync(id, 1).GetAsyncEnumerator())
            {
                Assert.True(await Wait.For(late.MoveNextAsync().AsTask(), "Pending for a watch opened after one stopped"));
                Assert.Equal(TaskState.Pending, late.Current.State);
            }

            await Client.CloseSessionAsync(id);

            await Wait.For(Task.WhenAll(enumerators.Skip(1).Select(async e =>
            {
                Assert.True(await e.MoveNextAsync(), "a watch yields the terminal state");
                Assert.Equal(TaskState.Cancelled, e.Current.State);
                Assert.False(await e.MoveNextAsync(), "a watch ends after the terminal state");
            })), $"{watchers - 1} watchers to see Cancelled and end");
        }
        finally
        {
            foreach (var e in enumerators)
                await e.DisposeAsync();
        }
    }

    [Fact]
    public async Task WatchTaskAsync_ThrowsOperationCanceled_WhenTheCallerCancels()
    {
        var id = await NewSessionAsync();
        await Client.CreateTaskAsync(id, null);
        using var cancel = new CancellationTokenSource();
        await using var watch = Client.WatchTaskAsync(id, 1, cancel.Token).GetAsyncEnumerator();
        Assert.True(await Wait.For(watch.MoveNextAsync().AsTask(), "Pending at once"));

        var next = watch.MoveNextAsync().AsTask();
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Wait.For(next, "the cancelled watch to throw"));
        Assert.Equal(TaskState.Pending, (await Client.GetTaskAsync(id, 1)).State); // the task is not touched
    }

    [Fact]
    public async Task RunTaskAsync_ReturnsTheCancelledTask_WhenItsSessionIsClosedMeanwhile()
    {
        var id = await NewSessionAsync();

        var run = Client.RunTaskAsync(id, [42]);
        await WaitForTaskOfAsync(id, run);
        await Client.CloseSessionAsync(id);

        var task = await Wait.For(run, "RunTaskAsync to return the Cancelled task");
        Assert.Equal((1L, id, TaskState.Cancelled), (task.Id, task.SessionId, task.State));
        Assert.Equal([42], task.Input!);
        Assert.NotNull(task.CompletionTime);
        await AssertCountersAsync(id, cancelled: 1);
    }

    [Fact]
    public async Task RunTaskAsync_ThrowsOperationCanceled_WhenTheCallerCancels_AndLeavesTheTaskPending()
    {
        var id = await NewSessionAsync();
        using var cancel = new CancellationTokenSource();

        var run = Client.RunTaskAsync(id, null, cancel.Token);
        await WaitForTaskOfAsync(id, run);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Wait.For(run, "the cancelled RunTaskAsync to throw"));
        await AssertCountersAsync(id, pending: 1);
    }

    [Fact]
    public async Task RunTaskAsync_Fails_WhenTheSessionIsClosed()
    {
        var id = await NewSessionAsync();
        await Client.CloseSessionAsync(id);

        await AssertFailsAsync(FlameErrorKind.InvalidArgument, () => Client.RunTaskAsync(id, null), id, "closed");
        await AssertCountersAsync(id);
    }

    // ---------------------------------------------------------------- cluster

    [Fact]
    public async Task ListExecutorsAsync_AndListNodesAsync_AreEmpty_AndGetNodeAsyncFindsNothing()
    {
        Assert.Empty(await Client.ListExecutorsAsync().ToListAsync());
        Assert.Empty(await Client.ListNodesAsync().ToListAsync());
        var node = Names.Unique("node");
        await AssertFailsAsync(FlameErrorKind.NotFound, () => Client.GetNodeAsync(node), node);
    }

    // ---------------------------------------------------------------- helpers

    private async Task<string> RegisterAppAsync()
    {
        var name = Names.Unique("capp");
        await Client.RegisterApplicationAsync(name, new ApplicationSpec { Command = "/bin/true" });
        return name;
    }

    private async Task<string> NewSessionAsync() =>
        (await Client.CreateSessionAsync(Names.Unique("cs"), new SessionSpec { Application = await RegisterAppAsync() })).Id;

    /// <summary>Waits until the task that <paramref name="run"/> creates exists (or <paramref name="run"/> ended early).</summary>
    private Task WaitForTaskOfAsync(string sessionId, Task run) =>
        Wait.UntilAsync(async () => run.IsCompleted || (await Client.GetSessionAsync(sessionId)).Status.Pending == 1,
            $"RunTaskAsync to create its task in session '{sessionId}'");

    /// <summary>Asserts the counters are exactly these, and equal the numbers of tasks in each state as listed.</summary>
    private async Task AssertCountersAsync(string sessionId, int pending = 0, int running = 0, int succeed = 0, int failed = 0, int cancelled = 0)
    {
        var s = (await Client.GetSessionAsync(sessionId)).Status;
        Assert.Equal((pending, running, succeed, failed, cancelled), (s.Pending, s.Running, s.Succeed, s.Failed, s.Cancelled));
        var tasks = await Client.ListTasksAsync(sessionId).ToListAsync();
        int Count(TaskState state) => tasks.Count(t => t.State == state);
        Assert.Equal(
            (s.Pending, s.Running, s.Succeed, s.Failed, s.Cancelled),
            (Count(TaskState.Pending), Count(TaskState.Running), Count(TaskState.Succeed), Count(TaskState.Failed), Count(TaskState.Cancelled)));
    }

    private static async Task<FlameException> AssertFailsAsync(FlameErrorKind kind, Func<Task> call, params string[] mentions)
    {
        FlameException? failure = null;
        try
        {
            await Wait.For(call(), $"a {kind} failure");
        }
        catch (FlameException ex)
        {
            failure = ex;
        }
        Assert.True(failure is not null, $"expected a FlameException of kind {kind}, but the call succeeded");
        Assert.True(failure.Kind == kind, $"expected kind {kind}, got {failure.Kind}: {failure.Message}");
        foreach (var mention in mentions)
            Assert.Contains(mention, failure.Message);
        return failure;
    }
}
