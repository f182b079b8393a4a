using System.Text;
using Flame.Storage;

namespace Flame.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="ITaskStore"/> must have. Each store runs it through a subclass that says how to open
/// the store (again, on the same data, for the durable ones) and how to count raw rows.
/// </summary>
public abstract partial class TaskStoreContractTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    protected ITaskStore Store { get; private set; } = null!;

    /// <summary>A store on this test's data: the same data each time it is called (after the previous one is disposed).</summary>
    protected abstract Task<ITaskStore> OpenAsync();

    /// <summary>Whether the data outlives the store object (false for the memory store).</summary>
    protected virtual bool Durable => true;

    /// <summary>Rows of <paramref name="table"/> as the database sees them; null where there is no database.</summary>
    protected virtual Task<long?> CountRowsAsync(string table) => Task.FromResult<long?>(null);

    public virtual async Task InitializeAsync() => Store = await OpenAsync();

    public virtual async Task DisposeAsync()
    {
        if (Store is IAsyncDisposable disposable)
            await disposable.DisposeAsync();
    }

    protected async Task ReopenAsync()
    {
        if (Store is IAsyncDisposable disposable)
            await disposable.DisposeAsync();
        Store = await OpenAsync();
    }

    protected static long CommitsOf(ITaskStore store) => store is GroupCommitTaskStore durable ? durable.Commits : 0;

    protected internal static StoredTask NewTask(long id, int state = 0, byte[]? input = null) =>
        new() { Id = id, State = state, Input = input, CreationTime = 1_700_000_000_000 + id };

    protected static byte[] Bytes(int length, byte seed = 1) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed))];

    protected async Task<List<StoredTask>> AllTasksAsync(string sessionId, long afterId = 0)
    {
        var tasks = new List<StoredTask>();
        await foreach (var task in Store.LoadTasksAsync(sessionId, afterId))
            tasks.Add(task);
        return tasks;
    }

    private static void AssertSame(StoredTask expected, StoredTask? actual)
    {
        Assert.NotNull(actual);
        // Records compare arrays by reference: compare the bytes, then the rest without them.
        Assert.Equal(expected.Input, actual.Input);
        Assert.Equal(expected.Output, actual.Output);
        Assert.Equal(expected with { Input = null, Output = null }, actual with { Input = null, Output = null });
    }

    [Fact]
    public async Task Applications_AreSavedReplacedListedByNameAndDeleted()
    {
        await Store.SaveApplicationAsync(new StoredApplication { Name = "b", Json = "{\"v\":1}" });
        await Store.SaveApplicationAsync(new StoredApplication { Name = "a", Json = "{}" });
        await Store.SaveApplicationAsync(new StoredApplication { Name = "b", Json = "{\"v\":2}" });
        await Store.DeleteApplicationAsync("missing");

        Assert.Equal(
            [new StoredApplication { Name = "a", Json = "{}" }, new StoredApplication { Name = "b", Json = "{\"v\":2}" }],
            await Store.LoadApplicationsAsync());

        await Store.DeleteApplicationAsync("a");
        Assert.Equal(["b"], (await Store.LoadApplicationsAsync()).Select(a => a.Name));
    }

    [Fact]
    public async Task Tokens_AreSavedReplacedListedByNameAndDeleted_ApartFromApplications()
    {
        await Store.SaveTokenAsync(new StoredToken { Name = "node-2", Json = "{\"v\":1}" });
        await Store.SaveTokenAsync(new StoredToken { Name = "alice", Json = "{}" });
        await Store.SaveTokenAsync(new StoredToken { Name = "node-2", Json = "{\"v\":2}" });
        await Store.SaveApplicationAsync(new StoredApplication { Name = "alice", Json = "{\"app\":1}" });
        await Store.DeleteTokenAsync("missing");

        Assert.Equal(
            [new StoredToken { Name = "alice", Json = "{}" }, new StoredToken { Name = "node-2", Json = "{\"v\":2}" }],
            await Store.LoadTokensAsync());

        await Store.DeleteTokenAsync("alice");
        Assert.Equal(["node-2"], (await Store.LoadTokensAsync()).Select(t => t.Name));
        Assert.Equal(["alice"], (await Store.LoadApplicationsAsync()).Select(a => a.Name));
    }

    [Fact]
    public async Task Session_RoundTripsEveryField_AndIsReplacedBySavingAgain()
    {
        var open = new StoredSession { Id = "s1", Application = "app", Open = true, CreationTime = 1_700_000_000_123, Json = "{\"spec\":\"é\"}" };
        await Store.SaveSessionAsync(open);
        Assert.Equal(open, await Store.LoadSessionAsync("s1"));

        var closed = open with { Open = false, CompletionTime = 1_700_000_009_999, Json = "{}" };
        await Store.SaveSessionAsync(closed);
        Assert.Equal(closed, await Store.LoadSessionAsync("s1"));
        Assert.Null(await Store.LoadSessionAsync("s2"));
    }

    [Fact]
    public async Task LoadSessionIds_GivesOpenOnesOrAll_InIdOrder()
    {
        foreach (var (id, open) in new[] { ("s-b", true), ("s-a", false), ("s-c", true), ("S-d", false) })
            await Store.SaveSessionAsync(new StoredSession { Id = id, Application = "app", Open = open, CreationTime = 1, Json = "{}" });

        Assert.Equal(["S-d", "s-a", "s-b", "s-c"], await Store.LoadSessionIdsAsync(openOnly: false));
        Assert.Equal(["s-b", "s-c"], await Store.LoadSessionIdsAsync(openOnly: true));
    }

    [Fact]
    public async Task Task_RoundTripsEveryField()
    {
        var task = new StoredTask
        {
            Id = 7,
            State = 3,
            Attempts = 2,
            Input = Bytes(100),
            Output = Bytes(50, 9),
            Message = "failed: ünïcode",
            CreationTime = 1_700_000_000_001,
            StartTime = 1_700_000_000_002,
            CompletionTime = 1_700_000_000_003,
            History = "[{\"event\":\"retry\"}]",
        };
        await Store.WriteTasksAsync("s", [task]);

        AssertSame(task, await Store.LoadTaskAsync("s", 7));
        AssertSame(task, Assert.Single(await AllTasksAsync("s")));
        Assert.Null(await Store.LoadTaskAsync("s", 8));
        Assert.Null(await Store.LoadTaskAsync("other", 7));
    }

    [Fact]
    public async Task Task_KeepsNoInputAndEmptyInputApart()
    {
        await Store.WriteTasksAsync("s", [NewTask(1, input: null), NewTask(2, input: [])]);

        Assert.Null((await Store.LoadTaskAsync("s", 1))!.Input);
        Assert.Equal(Array.Empty<byte>(), (await Store.LoadTaskAsync("s", 2))!.Input);
        Assert.Equal([null, []], (await AllTasksAsync("s")).Select(t => t.Input));
    }

    [Fact]
    public async Task LargeInputAndOutput_RoundTrip_AndAreReplacedBySmallOnes()
    {
        var input = Bytes(100_000);
        var output = Bytes(5_000, 7);
        await Store.WriteTasksAsync("s", [NewTask(1, input: input) with { Output = output }, NewTask(2, input: Bytes(2048))]);
        Assert.Equal(input, (await Store.LoadTaskAsync("s", 1))!.Input);
        Assert.Equal(output, (await Store.LoadTaskAsync("s", 1))!.Output);
        Assert.Equal([input, Bytes(2048)], (await AllTasksAsync("s")).Select(t => t.Input));

        // An update without input keeps the large input; a new small output replaces the large one.
        await Store.WriteTasksAsync("s", [NewTask(1, state: 2) with { Output = [1, 2, 3] }]);
        var updated = await Store.LoadTaskAsync("s", 1);
        Assert.Equal(input, updated!.Input);
        Assert.Equal([1, 2, 3], updated.Output);

        // A new small input replaces the large one, and a small one can become large.
        await Store.WriteTasksAsync("s", [NewTask(1, input: [4]), NewTask(2, input: Bytes(3000, 5))]);
        Assert.Equal([[4], Bytes(3000, 5)], (await AllTasksAsync("s")).Select(t => t.Input));
        Assert.Null((await Store.LoadTaskAsync("s", 1))!.Output);
        Assert.Equal(1, await CountRowsAsync("flame_task_payloads") ?? 1);
    }

    [Fact]
    public async Task UpdateWithoutInput_KeepsTheStoredInput()
    {
        await Store.WriteTasksAsync("s", [NewTask(1, input: [1, 2]), NewTask(2)]);
        await Store.WriteTasksAsync("s", [NewTask(1, state: 1) with { Attempts = 1, StartTime = 5 }, NewTask(2, state: 1)]);

        var tasks = await AllTasksAsync("s");
        Assert.Equal([[1, 2], null], tasks.Select(t => t.Input));
        Assert.Equal([1, 1], tasks.Select(t => t.State));
        Assert.Equal(5, tasks[0].StartTime);
    }

    [Fact]
    public async Task WritesIssuedTogether_ApplyInCallOrder_LastWins_KeepingTheLastInputGiven()
    {
        await Store.WriteTasksAsync("s", [NewTask(2, input: [9])]);
        Task[] writes =
        [
            Store.WriteTasksAsync("s", [NewTask(1, state: 0, input: [1])]),
            Store.WriteTasksAsync("s", [NewTask(1, state: 1), NewTask(2, state: 1)]),
            Store.WriteTasksAsync("s", [NewTask(1, state: 1, input: [2]), NewTask(2, state: 2) with { Output = [8] }]),
            Store.WriteTasksAsync("s", [NewTask(1, state: 2) with { Output = [3] }, NewTask(1, state: 3) with { Message = "last" }]),
        ];
        await Task.WhenAll(writes);

        var tasks = await AllTasksAsync("s");
        Assert.Equal([3, 2], tasks.Select(t => t.State));
        Assert.Equal([[2], [9]], tasks.Select(t => t.Input));
        Assert.Equal([null, [8]], tasks.Select(t => t.Output));
        Assert.Equal("last", tasks[0].Message);
    }

    [Fact]
    public async Task DeleteSession_RemovesItsRowTasksAndPayloads_AndNothingElse()
    {
        await Store.SaveSessionAsync(new StoredSession { Id = "s", Application = "app", Open = true, CreationTime = 1, Json = "{}" });
        await Store.SaveSessionAsync(new StoredSession { Id = "t", Application = "app", Open = true, CreationTime = 1, Json = "{}" });
        await Store.WriteTasksAsync("s", [NewTask(1, input: Bytes(10_000)) with { Output = Bytes(10_000) }, NewTask(2)]);
        await Store.WriteTasksAsync("t", [NewTask(1, input: Bytes(10_000))]);

        await Store.DeleteSessionAsync("s");
        await Store.DeleteSessionAsync("missing");

        Assert.Null(await Store.LoadSessionAsync("s"));
        Assert.Empty(await AllTasksAsync("s"));
        Assert.Null(await Store.LoadTaskAsync("s", 1));
        Assert.Equal(["t"], await Store.LoadSessionIdsAsync(openOnly: false));
        Assert.Equal(Bytes(10_000), (await Store.LoadTaskAsync("t", 1))!.Input);
        Assert.Equal(1, await CountRowsAsync("flame_task_payloads") ?? 1);
        Assert.Equal(1, await CountRowsAsync("flame_tasks") ?? 1);
    }

    [Fact]
    public async Task DeleteSession_IssuedAfterWritesOfTheSession_LeavesNothing_AndWritesAfterItStartAfresh()
    {
        await Store.WriteTasksAsync("s", [NewTask(1, input: [1]), NewTask(3, input: Bytes(5000))]);
        await Task.WhenAll(
            Store.SaveSessionAsync(new StoredSession { Id = "s", Application = "app", Open = true, CreationTime = 1, Json = "{}" }),
            Store.WriteTasksAsync("s", [NewTask(2, input: [2])]),
            Store.DeleteSessionAsync("s"),
            Store.WriteTasksAsync("gone", [NewTask(1)]),
            Store.DeleteSessionAsync("gone"));
        Assert.Null(await Store.LoadSessionAsync("s"));
        Assert.Empty(await AllTasksAsync("s"));
        Assert.Empty(await AllTasksAsync("gone"));

        // After a delete, an update without input finds no input to keep.
        await Store.WriteTasksAsync("s", [NewTask(1, input: [1])]);
        await Task.WhenAll(
            Store.DeleteSessionAsync("s"),
            Store.WriteTasksAsync("s", [NewTask(1, state: 1)]),
            Store.SaveSessionAsync(new StoredSession { Id = "s", Application = "again", Open = true, CreationTime = 2, Json = "{}" }));
        var task = Assert.Single(await AllTasksAsync("s"));
        Assert.Null(task.Input);
        Assert.Equal(1, task.State);
        Assert.Equal("again", (await Store.LoadSessionAsync("s"))!.Application);
        Assert.Equal(0, await CountRowsAsync("flame_task_payloads") ?? 0);
    }

    [Fact]
    public async Task SessionSavedThenItsTasksWritten_Together_AreBothThere()
    {
        var session = new StoredSession { Id = "s", Application = "app", Open = true, CreationTime = 1, Json = "{}" };
        await Task.WhenAll(
            Store.SaveSessionAsync(session),
            Store.WriteTasksAsync("s", [NewTask(1, input: [1]), NewTask(2, input: [2])]),
            Store.SaveApplicationAsync(new StoredApplication { Name = "app", Json = "{}" }),
            Store.DeleteApplicationAsync("app"),
            Store.SaveApplicationAsync(new StoredApplication { Name = "app", Json = "{\"again\":1}" }));

        Assert.Equal(session, await Store.LoadSessionAsync("s"));
        Assert.Equal([1L, 2L], (await AllTasksAsync("s")).Select(t => t.Id));
        Assert.Equal("{\"again\":1}", Assert.Single(await Store.LoadApplicationsAsync()).Json);
    }

    [Fact]
    public async Task LoadTasks_StreamsInIdOrder_FromAfterId()
    {
        var ids = Enumerable.Range(1, 3000).Select(i => (long)i).ToArray();
        Random.Shared.Shuffle(ids);
        foreach (var chunk in ids.Chunk(500))
            await Store.WriteTasksAsync("s", [.. chunk.Select(id => NewTask(id, input: Encoding.UTF8.GetBytes($"in{id}")))]);
        await Store.WriteTasksAsync("other", [NewTask(1), NewTask(5000)]);

        var all = await AllTasksAsync("s");
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => (long)i), all.Select(t => t.Id));
        Assert.Equal("in3000", Encoding.UTF8.GetString(all[^1].Input!));

        Assert.Equal(Enumerable.Range(2501, 500).Select(i => (long)i), (await AllTasksAsync("s", afterId: 2500)).Select(t => t.Id));
        Assert.Empty(await AllTasksAsync("s", afterId: 3000));

        // Stopping early is fine: the reader and its connection are released.
        await foreach (var first in Store.LoadTasksAsync("s", 0))
        {
            Assert.Equal(1, first.Id);
            break;
        }
    }

    [Fact]
    public async Task ManyConcurrentWriters_AreAllDurable_InFarFewerTransactionsThanCalls()
    {
        const int Writers = 200, PerWriter = 50;
        var before = CommitsOf(Store);

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w =>
            Store.WriteTasksAsync($"s{w % 10}", [.. Enumerable.Range(0, PerWriter).Select(i => NewTask(w * PerWriter + i + 1, input: [(byte)w]))])))
            .WaitAsync(Patience);

        if (Durable)
            await ReopenAsync();
        for (var s = 0; s < 10; s++)
            Assert.Equal(Writers / 10 * PerWriter, (await AllTasksAsync($"s{s}")).Count);
        Assert.Equal(Writers * PerWriter, await CountRowsAsync("flame_tasks") ?? Writers * PerWriter);
        var commits = CommitsOf(Store) - before;
        Assert.True(commits <= Writers / 4, $"expected group commit to take {Writers} calls in at most {Writers / 4} transactions, saw {commits}");
    }

    [Fact]
    public async Task Data_SurvivesClosingAndReopeningTheStore()
    {
        if (!Durable)
            return;
        var session = new StoredSession { Id = "s", Application = "app", Open = true, CreationTime = 1, Json = "{}" };
        await Store.SaveApplicationAsync(new StoredApplication { Name = "app", Json = "{}" });
        await Store.SaveSessionAsync(session);
        await Store.WriteTasksAsync("s", [NewTask(1, input: Bytes(9000)), NewTask(2, input: [2])]);
        // Not awaited: disposing commits what is queued.
        var pending = Enumerable.Range(3, 100).Select(i => Store.WriteTasksAsync("s", [NewTask(i)])).ToArray();

        await ReopenAsync();

        Assert.All(pending, p => Assert.True(p.IsCompletedSuccessfully));
        Assert.Equal(session, await Store.LoadSessionAsync("s"));
        Assert.Equal("app", Assert.Single(await Store.LoadApplicationsAsync()).Name);
        var tasks = await AllTasksAsync("s");
        Assert.Equal(102, tasks.Count);
        Assert.Equal(Bytes(9000), tasks[0].Input);
    }

    [Fact]
    public async Task Writes_AfterDispose_Fail()
    {
        if (Store is not IAsyncDisposable disposable || !Durable)
            return;
        await disposable.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = Store.WriteTasksAsync("s", [NewTask(1)]); });
        Store = await OpenAsync();
    }
}
