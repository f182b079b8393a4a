using System.Text;
using Flame.Client;
using Flame.SessionManager.Tests.Support;

namespace Flame.SessionManager.Tests;

/// <summary>
/// What every <see cref="IFlameClient"/> transport must do, run once per transport by the subclasses below:
/// the same calls give the same results, and the same errors the same <see cref="FlameErrorKind"/>.
/// </summary>
public abstract class FlameClientContract(GatewayFixture gateway) : IAsyncLifetime
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

    // ---------------------------------------------------------------- errors

    public static TheoryData<string> Errors => new(
        "unknown session",
        "unknown task",
        "unknown application",
        "unknown node",
        "session id with a space",
        "session id of 254 characters",
        "task id 0",
        "negative task id in a watch",
        "empty application name",
        "invalid application spec",
        "session for a missing application",
        "duplicate session id",
        "duplicate application",
        "task for a closed session",
        "task input over the limit",
        "task input over the gateway's message limit",
        "common data over the limit",
        "open a closed session",
        "open a missing session without a spec",
        "open with a contradicting spec",
        "delete an open session",
        "list the tasks of a missing session",
        "watch a missing task",
        "update a missing application",
        "unregister a missing application");

    /// <summary>Each error, arranged and then provoked; every transport must throw the same kind.</summary>
    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Errors_AreFlameExceptionsOfTheSameKind_OnEveryTransport(string error)
    {
        var (kind, provoke, mentions, check) = await ArrangeAsync(error);

        await AssertFailsAsync(kind, provoke, mentions);

        if (check is not null)
            await check();
    }

    private async Task<(FlameErrorKind Kind, Func<Task> Provoke, string[] Mentions, Func<Task>? Check)> ArrangeAsync(string error)
    {
        const FlameErrorKind invalid = FlameErrorKind.InvalidArgument, notFound = FlameErrorKind.NotFound;
        switch (error)
        {
            case "unknown session":
            {
                var id = Names.Unique("s");
                return (notFound, () => Client.GetSessionAsync(id), [id], null);
            }
            case "unknown task":
            {
                var id = await NewSessionAsync();
                await Client.CreateTaskAsync(id, null);
                return (notFound, () => Client.GetTaskAsync(id, 2), ["task 2", id], null);
            }
            case "unknown application":
            {
                var name = Names.Unique("app");
                return (notFound, () => Client.GetApplicationAsync(name), [name], null);
            }
            case "unknown node":
            {
                var name = Names.Unique("node");
                return (notFound, () => Client.GetNodeAsync(name), [name], null);
            }
            case "session id with a space":
                return (invalid, () => Client.GetSessionAsync("bad id"), ["session id", "' '"], null);
            case "session id of 254 characters":
                return (invalid, () => Client.CreateTaskAsync(new string('s', 254), null), ["session id", "253"], null);
            case "task id 0":
            {
                var id = await NewSessionAsync();
                return (invalid, () => Client.GetTaskAsync(id, 0), ["task id", "0"], null);
            }
            case "negative task id in a watch":
            {
                var id = await NewSessionAsync();
                return (invalid, () => Client.WatchTaskAsync(id, -1).ToListAsync().AsTask(), ["task id", "-1"], null);
            }
            case "empty application name":
                return (invalid, () => Client.RegisterApplicationAsync("", new ApplicationSpec { Command = "/bin/true" }), ["application name is empty"], null);
            case "invalid application spec":
            {
                var name = Names.Unique("app");
                return (invalid, () => Client.RegisterApplicationAsync(name, new ApplicationSpec { MaxInstances = 0 }), [name, "max_instances"],
                    () => AssertFailsAsync(notFound, () => Client.GetApplicationAsync(name)));
            }
            case "session for a missing application":
            {
                var app = Names.Unique("app");
                return (notFound, () => Client.CreateSessionAsync(null, new SessionSpec { Application = app }), [app],
                    async () => Assert.DoesNotContain(await Client.ListSessionsAsync().ToListAsync(), s => s.Spec.Application == app));
            }
            case "duplicate session id":
            {
                var id = await NewSessionAsync();
                var other = await RegisterAppAsync();
                return (FlameErrorKind.AlreadyExists, () => Client.CreateSessionAsync(id, new SessionSpec { Application = other }), [id],
                    async () => Assert.NotEqual(other, (await Client.GetSessionAsync(id)).Spec.Application));
            }
            case "duplicate application":
            {
                var name = await RegisterAppAsync();
                return (FlameErrorKind.AlreadyExists, () => Client.RegisterApplicationAsync(name, new ApplicationSpec { Command = "/bin/other" }), [name],
                    async () => Assert.Equal("/bin/true", (await Client.GetApplicationAsync(name)).Spec.Command));
            }
            case "task for a closed session":
            {
                var id = await NewSessionAsync();
                await Client.CreateTaskAsync(id, null);
                await Client.CloseSessionAsync(id);
                return (invalid, () => Client.CreateTaskAsync(id, [1]), [id, "closed"], () => AssertCountersAsync(id, cancelled: 1));
            }
            case "task input over the limit":
            {
                var id = await NewSessionAsync();
                return (invalid, () => Client.CreateTaskAsync(id, new byte[GatewayFixture.MaxTaskInputBytes + 1]),
                    ["Flame:Limits:MaxTaskInputBytes"], () => AssertCountersAsync(id));
            }
            case "task input over the gateway's message limit":
            {
                // Bigger than what the gateway's gRPC server accepts in one message: still an oversized input.
                var id = await NewSessionAsync();
                return (invalid, () => Client.CreateTaskAsync(id, new byte[GatewayFixture.GrpcReceiveLimitBytes + 1]), [],
                    () => AssertCountersAsync(id));
            }
            case "common data over the limit":
            {
                var app = await RegisterAppAsync();
                var id = Names.Unique("s");
                return (invalid, () => Client.CreateSessionAsync(id, new SessionSpec { Application = app, CommonData = new byte[GatewayFixture.MaxCommonDataBytes + 1] }),
                    ["Flame:Limits:MaxCommonDataBytes"], () => AssertFailsAsync(notFound, () => Client.GetSessionAsync(id)));
            }
            case "open a closed session":
            {
                var id = await NewSessionAsync();
                await Client.CloseSessionAsync(id);
                return (invalid, () => Client.OpenSessionAsync(id), [$"Session {id} is not open"], null);
            }
            case "open a missing session without a spec":
            {
                var id = Names.Unique("s");
                return (notFound, () => Client.OpenSessionAsync(id), [id],
                    () => AssertFailsAsync(notFound, () => Client.GetSessionAsync(id)));
            }
            case "open with a contradicting spec":
            {
                var id = await NewSessionAsync();
                var other = await RegisterAppAsync();
                return (invalid, () => Client.OpenSessionAsync(id, new SessionSpec { Application = other }), [id, "application"], null);
            }
            case "delete an open session":
            {
                var id = await NewSessionAsync();
                return (FlameErrorKind.FailedPrecondition, () => Client.DeleteSessionAsync(id), [id, "open"],
                    async () => Assert.Equal(SessionState.Open, (await Client.GetSessionAsync(id)).Status.State));
            }
            case "list the tasks of a missing session":
            {
                var id = Names.Unique("s");
                return (notFound, () => Client.ListTasksAsync(id).ToListAsync().AsTask(), [id], null);
            }
            case "watch a missing task":
            {
                var id = await NewSessionAsync();
                return (notFound, () => Client.WatchTaskAsync(id, 1).ToListAsync().AsTask(), ["task 1", id], null);
            }
            case "update a missing application":
            {
                var name = Names.Unique("app");
                return (notFound, () => Client.UpdateApplicationAsync(name, new ApplicationSpec { Command = "/bin/true" }), [name],
                    () => AssertFailsAsync(notFound, () => Client.GetApplicationAsync(name)));
            }
            case "unregister a missing application":
            {
                var name = Names.Unique("app");
                return (notFound, () => Client.UnregisterApplicationAsync(name), [name], null);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(error), error, "no such error case");
        }
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

/// <summary>The contract over gRPC: <see cref="GrpcFlameClient"/> talking to the gateway.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GrpcFlameClientTests(GatewayFixture gateway) : FlameClientContract(gateway)
{
    protected override IFlameClient CreateClient() => new GrpcFlameClient(Gateway.Endpoint);

    [Fact]
    public async Task AnEndpointWithoutAScheme_IsTakenAsPlaintextHttp()
    {
        await using var client = new GrpcFlameClient(new Uri(Gateway.Endpoint).Authority);

        Assert.Empty(await client.ListNodesAsync().ToListAsync());
    }

    [Fact]
    public async Task AnUnreachableGateway_IsUnavailable()
    {
        await using var client = new GrpcFlameClient($"http://127.0.0.1:{FreePorts.Next()}");

        var error = await Assert.ThrowsAsync<FlameException>(() => Wait.For(client.GetSessionAsync("s"), "the refused connection to fail the call"));

        Assert.Equal(FlameErrorKind.Unavailable, error.Kind);
    }
}

/// <summary>The contract in-process: <see cref="OrleansFlameClient"/> calling the grains of the gateway's silo.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OrleansFlameClientTests(GatewayFixture gateway) : FlameClientContract(gateway)
{
    protected override IFlameClient CreateClient() => new OrleansFlameClient(Gateway.Grains);

    [Fact]
    public async Task Watches_SeeEachStateOnce_ThroughRunningAndARetry_EvenWhenTheHubRefreshesAllTheTime()
    {
        // Refreshes re-read and re-register every few milliseconds; they must never repeat or lose a state, on a path
        // that goes Pending, Running, Pending again (the attempt failed), Running, Succeed.
        await using var hub = new TaskWatchHub(Gateway.Grains, new TaskWatchHubOptions { RefreshInterval = TimeSpan.FromMilliseconds(10) });
        await using var client = new OrleansFlameClient(Gateway.Grains, hub);
        var app = Names.Unique("capp");
        await client.RegisterApplicationAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var session = (await client.CreateSessionAsync(null, new SessionSpec { Application = app })).Id;
        var grain = Gateway.Grains.GetGrain<Flame.Grains.ISessionGrain>(session);
        const int tasks = 20;
        for (var i = 0; i < tasks; i++)
            await client.CreateTaskAsync(session, null);
        var enumerators = Enumerable.Range(1, tasks).Select(t => client.WatchTaskAsync(session, t).GetAsyncEnumerator()).ToList();
        // The test plays the executors: one per task, attached to the session as an executor manager's would be.
        var executors = Enumerable.Range(1, tasks).Select(i => $"hub-e{i}").ToList();
        foreach (var executor in executors)
            await grain.AttachExecutorAsync(executor);
        var held = new Dictionary<string, TaskInfo>();

        async Task LaunchAllAsync()
        {
            foreach (var executor in executors)
                held[executor] = (await grain.LaunchTaskAsync(executor)).Item ?? throw new Xunit.Sdk.XunitException($"{executor} got no task");
        }

        async Task CompleteAllAsync(bool fail)
        {
            foreach (var (executor, task) in held)
                await grain.CompleteTaskAsync(executor, new TaskResultInfo
                {
                    ReturnCode = fail ? -1 : 0, Message = fail ? "the service died" : null, SystemFailure = fail, TaskId = task.Id, Launch = task.Launch,
                });
        }

        Task EveryWatcherSeesAsync(TaskState state, bool last = false) =>
            Wait.For(Task.WhenAll(enumerators.Select(async e =>
            {
                Assert.True(await e.MoveNextAsync(), $"a watcher ended before {state}");
                Assert.Equal(state, e.Current.State);
                if (last)
                    Assert.False(await e.MoveNextAsync(), "nothing after the terminal state");
            })), $"{tasks} watchers to see {state}");

        try
        {
            await EveryWatcherSeesAsync(TaskState.Pending);
            await LaunchAllAsync();
            await EveryWatcherSeesAsync(TaskState.Running);
            await CompleteAllAsync(fail: true);
            await EveryWatcherSeesAsync(TaskState.Pending);
            await LaunchAllAsync();
            await EveryWatcherSeesAsync(TaskState.Running);
            await CompleteAllAsync(fail: false);
            await EveryWatcherSeesAsync(TaskState.Succeed, last: true);
            Assert.Equal(0, hub.WatchedTaskCount);
        }
        finally
        {
            foreach (var e in enumerators)
                await e.DisposeAsync();
        }
    }
}
