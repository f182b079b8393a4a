namespace Flame.Grains.Tests;

/// <summary>A create sent again with the same idempotency key (in the request context, as the gateway puts it) creates nothing new.</summary>
[Collection(ClusterCollection.Name)]
public sealed class IdempotentCreateTests(ClusterFixture fixture)
{
    private async Task<ISessionGrain> NewSessionAsync()
    {
        var app = "app-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key)
            .RegisterAsync(app, new ApplicationSpec { Command = "/bin/true" });
        var session = fixture.Grains.GetGrain<ISessionGrain>("s-" + Guid.NewGuid().ToString("N")[..12]);
        await session.CreateAsync(new SessionSpec { Application = app });
        return session;
    }

    private static async Task<T> WithKey<T>(string? key, Func<Task<T>> call)
    {
        RequestContext.Clear();
        if (key is not null)
            RequestContext.Set(IdempotencyKey.Header, key);
        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Clear();
        }
    }

    [Fact]
    public async Task CreateTask_sent_twice_with_one_key_creates_one_task_and_answers_both_with_it()
    {
        var session = await NewSessionAsync();
        var first = await WithKey("key-1", () => session.CreateTaskAsync([1]));
        var again = await WithKey("key-1", () => session.CreateTaskAsync([1]));
        var other = await WithKey("key-2", () => session.CreateTaskAsync([2]));
        var unkeyed = await WithKey(null, () => session.CreateTaskAsync([3]));

        Assert.Equal(first.Id, again.Id);
        Assert.Equal((1L, 2L, 3L), (first.Id, other.Id, unkeyed.Id));
        Assert.Equal(3, (await session.GetAsync()).Status.Pending);
        // The key is the session's own note: kept with the task, never among the events a client sees.
        Assert.Equal(["created"], (await session.GetTaskAsync(first.Id)).Events.Select(e => e.Message));
    }

    [Fact]
    public async Task CreateTasks_sent_twice_with_one_key_creates_the_batch_once()
    {
        var session = await NewSessionAsync();
        var first = await WithKey("batch-1", () => session.CreateTasksAsync([[1], [2], [3]]));
        var again = await WithKey("batch-1", () => session.CreateTasksAsync([[1], [2], [3]]));
        var next = await WithKey("batch-2", () => session.CreateTasksAsync([[4], [5], [6]]));

        Assert.Equal((1L, 1L, 4L), (first, again, next));
        Assert.Equal(6, (await session.GetAsync()).Status.Pending);
        var reused = await Assert.ThrowsAsync<FlameException>(() => WithKey("batch-1", () => session.CreateTasksAsync([[1], [2]])));
        Assert.Equal(FlameErrorKind.InvalidArgument, reused.Kind);
    }

    [Fact]
    public async Task A_keyed_retry_gets_its_task_even_after_the_session_closed()
    {
        var session = await NewSessionAsync();
        var first = await WithKey("late", () => session.CreateTaskAsync(null));
        await session.CloseAsync();
        var again = await WithKey("late", () => session.CreateTaskAsync(null));
        Assert.Equal(first.Id, again.Id);
    }
}
