using Flame.Client;
using Flame.Client.Configuration;
using Flame.EndToEnd.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests.FaultMatrix;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;

/// <summary>
/// The fault matrix's full disk under SQLite: the one-command default with its data directory on a small filesystem
/// the test fills. New work is refused with RESOURCE_EXHAUSTED naming the full disk, nothing acknowledged is lost,
/// and work is accepted again once space returns. A client of the bare flame.v1 stubs makes the creates, so that what
/// each answer means (acknowledged, unknown, refused) is this test's to count, not hidden by our client's retries.
/// </summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    // Above the store's inline threshold (2 KiB): each create grows the database by about this much.
    private static readonly string Padding = new('p', 8 * 1024);

    private SmallDisk? _disk;
    private FlameCluster? _cluster;

    public async System.Threading.Tasks.Task InitializeAsync()
    {
        _disk = await SmallDisk.MountAsync(megabytes: 24);
        _cluster = await FlameCluster.StartAsync("full-disk", new Dictionary<string, string>
        {
            ["Flame:Storage:DataDirectory"] = _disk.Path,
        });
        await _cluster.UntilEmbeddedNodeAndFlmpingAsync();
    }

    public async System.Threading.Tasks.Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        if (_disk is not null)
            await _disk.DisposeAsync();
    }

    [Fact]
    public async System.Threading.Tasks.Task A_full_disk_under_SQLite_refuses_new_tasks_with_RESOURCE_EXHAUSTED_loses_nothing_acknowledged_and_recovers()
    {
        var cluster = _cluster!;
        var app = await cluster.RegisterTestApplicationAsync("full-disk");
        var sessionId = (await cluster.Client.CreateSessionAsync(null, new Flame.SessionSpec { Application = app.Name })).Id;
        using var channel = GrpcFlameClient.CreateChannel(new FlameConnection([new Uri(cluster.Endpoint)], null, "test"));
        var stub = new Frontend.FrontendClient(channel);
        var acknowledged = new List<string>();
        var unknown = new List<string>(); // UNAVAILABLE: the create may or may not have been kept
        var refused = new List<string>();
        var next = 0;

        async Task<StatusCode> CreateAsync()
        {
            var marker = $"t-{++next}";
            try
            {
                await stub.CreateTaskAsync(
                    new CreateTaskRequest { Task = new TaskSpec { SessionId = sessionId, Input = ByteString.CopyFromUtf8($"echo:{marker}:{Padding}") } },
                    deadline: DateTime.UtcNow + Wait.Timeout);
                acknowledged.Add(marker);
                return StatusCode.OK;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                unknown.Add(marker);
                return ex.StatusCode;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                Assert.Contains("disk is full", ex.Status.Detail);
                Assert.Contains("no task was created", ex.Status.Detail);
                refused.Add(marker);
                return ex.StatusCode;
            }
        }

        for (var i = 0; i < 20; i++)
            Assert.Equal(StatusCode.OK, await CreateAsync());

        _disk!.Fill();
        // The first creates may still fit in pages the database holds free; then one fails to commit (UNAVAILABLE: it is
        // kept and written later) and from then on new ones are refused.
        await Wait.UntilAsync(
            async () => await CreateAsync() == StatusCode.ResourceExhausted,
            "a create to be refused with RESOURCE_EXHAUSTED once the disk is full",
            seen: () => System.Threading.Tasks.Task.FromResult($"{acknowledged.Count} acknowledged, {unknown.Count} unavailable, {refused.Count} refused"),
            context: cluster.Tails);
        Assert.Equal(StatusCode.ResourceExhausted, await CreateAsync());

        _disk.Free();
        await Wait.UntilAsync(
            async () => await CreateAsync() == StatusCode.OK,
            "a create to be acknowledged once space returned",
            seen: () => System.Threading.Tasks.Task.FromResult($"{acknowledged.Count} acknowledged, {unknown.Count} unavailable, {refused.Count} refused"),
            context: cluster.Tails);

        // Every acknowledged task, and perhaps those whose answer was UNAVAILABLE, ends once with its own output;
        // no refused create left a task behind.
        var total = 0;
        await cluster.UntilAsync(
            async () =>
            {
                var status = (await cluster.Client.GetSessionAsync(sessionId)).Status;
                total = status.Pending + status.Running + status.Succeed + status.Failed + status.Cancelled;
                return status.Pending == 0 && status.Running == 0;
            },
            "every task of the session to end", TasksTimeout);
        var tasks = await cluster.Client.CheckTasksAsync(sessionId, total);
        var markers = tasks.Select(t => Text(t.Input).Split(':')[1]).ToList();
        Assert.All(tasks, t => Assert.True(t.State == Flame.TaskState.Succeed && Text(t.Output) == Text(t.Input)["echo:".Length..],
            $"task {t.Id} should have succeeded with its own text, is {t.State}: {Describe(t.Events)}"));
        Assert.Equal(markers.Count, markers.Distinct().Count());
        Assert.Empty(acknowledged.Except(markers));
        Assert.Empty(refused.Intersect(markers));
        Assert.Empty(markers.Except(acknowledged).Except(unknown));
    }
}
