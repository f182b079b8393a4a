namespace Flame.Storage.Tests;

/// <summary>The contract's session queries: pages, the work a restart must run, owners, closed sessions by age.</summary>
public abstract partial class TaskStoreContractTests
{
    private Task SaveSessionAsync(string id, long created, bool open = true, string application = "app", string? owner = null, long? closed = null,
        int minInstances = 0) =>
        Store.SaveSessionAsync(new StoredSession
        {
            Id = id,
            Application = application,
            Open = open,
            CreationTime = created,
            CompletionTime = closed,
            Json = owner is null ? $"{{\"spec\":{{\"minInstances\":{minInstances}}}}}" : $"{{\"spec\":{{\"owner\":\"{owner}\"}}}}",
        });

    [Fact]
    public async Task LoadSessionPage_PagesOldestFirst_ThenById_WithTaskCountsByState()
    {
        await SaveSessionAsync("s-c", 20);
        await SaveSessionAsync("s-b", 10);
        await SaveSessionAsync("s-a", 20);
        await SaveSessionAsync("s-d", 30);
        await Store.WriteTasksAsync("s-a", [NewTask(1, 0), NewTask(2, 0), NewTask(3, 1), NewTask(4, 2), NewTask(5, 4)]);

        var first = await Store.LoadSessionPageAsync(new StoredSessionQuery { Max = 2 });
        Assert.Equal(["s-b", "s-a"], first.Select(s => s.Session.Id));
        Assert.Equal([2, 1, 1, 0, 1], first[1].TaskCounts);
        Assert.Equal([0, 0, 0, 0, 0], first[0].TaskCounts);
        var last = first[^1].Session;
        var second = await Store.LoadSessionPageAsync(new StoredSessionQuery { Max = 2, AfterCreationTime = last.CreationTime, AfterId = last.Id });
        Assert.Equal(["s-c", "s-d"], second.Select(s => s.Session.Id));
        Assert.Empty(await Store.LoadSessionPageAsync(new StoredSessionQuery { Max = 2, AfterCreationTime = 30, AfterId = "s-d" }));
    }

    [Fact]
    public async Task LoadSessionPage_FiltersByStateAndApplication()
    {
        await SaveSessionAsync("s-1", 1, open: true, application: "a");
        await SaveSessionAsync("s-2", 2, open: false, application: "a", closed: 5);
        await SaveSessionAsync("s-3", 3, open: true, application: "b");

        Assert.Equal(["s-1", "s-3"], (await Store.LoadSessionPageAsync(new StoredSessionQuery { Max = 10, Open = true })).Select(s => s.Session.Id));
        Assert.Equal(["s-2"], (await Store.LoadSessionPageAsync(new StoredSessionQuery { Max = 10, Open = false })).Select(s => s.Session.Id));
        Assert.Equal(["s-1", "s-2"], (await Store.LoadSessionPageAsync(new StoredSessionQuery { Max = 10, Application = "a" })).Select(s => s.Session.Id));
        Assert.Equal(["s-1"], (await Store.LoadSessionPageAsync(new StoredSessionQuery { Max = 10, Application = "a", Open = true })).Select(s => s.Session.Id));
    }

    [Fact]
    public async Task LoadOpenSessionsWithWork_GivesOnlyOpenSessionsWithPendingOrRunningTasks_OrMinInstances()
    {
        await SaveSessionAsync("idle", 1);
        await SaveSessionAsync("keeping", 1, minInstances: 2);
        await SaveSessionAsync("done", 2);
        await SaveSessionAsync("busy", 3);
        await SaveSessionAsync("closed", 4, open: false, closed: 5);
        await Store.WriteTasksAsync("done", [NewTask(1, 2), NewTask(2, 3)]);
        await Store.WriteTasksAsync("busy", [NewTask(1, 0), NewTask(2, 1), NewTask(3, 0), NewTask(4, 2)]);
        await Store.WriteTasksAsync("closed", [NewTask(1, 1)]);

        Assert.Equal([new StoredSessionWork("busy", 2, 1), new StoredSessionWork("keeping", 0, 0)],
            (await Store.LoadOpenSessionsWithWorkAsync()).OrderBy(w => w.SessionId, StringComparer.Ordinal));
    }

    [Fact]
    public async Task LoadOpenSessionIdsOfOwner_GivesTheOwnersOpenSessionsOnly()
    {
        await SaveSessionAsync("a-1", 1, owner: "alice");
        await SaveSessionAsync("a-2", 2, owner: "alice", open: false, closed: 3);
        await SaveSessionAsync("b-1", 3, owner: "bob");
        await SaveSessionAsync("n-1", 4);

        Assert.Equal(["a-1"], await Store.LoadOpenSessionIdsOfOwnerAsync("alice"));
        Assert.Empty(await Store.LoadOpenSessionIdsOfOwnerAsync("carol"));
    }

    [Fact]
    public async Task LoadClosedSessionIds_GivesThoseClosedBeforeTheTime_OldestCloseFirst_UpToMax()
    {
        await SaveSessionAsync("c-late", 1, open: false, closed: 300);
        await SaveSessionAsync("c-early", 2, open: false, closed: 100);
        await SaveSessionAsync("c-mid", 3, open: false, closed: 200);
        await SaveSessionAsync("open", 4);

        Assert.Equal(["c-early", "c-mid"], await Store.LoadClosedSessionIdsAsync(closedBefore: 300, max: 10));
        Assert.Equal(["c-early"], await Store.LoadClosedSessionIdsAsync(closedBefore: 1000, max: 1));
    }
}
