using Flame.Client;
using Flame.Client.Configuration;
using Flame.EndToEnd.Tests.Support;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests.FaultMatrix;

/// <summary>
/// The fault matrix's frozen silo: session-manager-1 of the local cluster (PostgreSQL, two silos, two executor
/// managers) is SIGSTOPped in the middle of a session it owns, until the other silo has declared it dead, then
/// resumed. The resumed silo must not act on what it owned before: it finds itself dead in the membership and stops,
/// and every task ends once, Succeed, with its own output (nothing run to a second result, nothing reported twice).
/// </summary>
public sealed class SiloFreezeTests : IAsyncLifetime
{
    private const int Tasks = 1000;

    private LocalCluster _cluster = null!;
    private int? _frozen;

    // Beside what the script allows its nodes: the test service of this folder.
    public async Task InitializeAsync() =>
        _cluster = await LocalCluster.StartAsync(new() { ["Flame__ExecutorManager__AllowedCommands__9"] = AppContext.BaseDirectory });

    public async Task DisposeAsync()
    {
        if (_frozen is { } group)
            await Processes.SignalAsync("CONT", group, group: true);
        await _cluster.StopAsync();
    }

    [Fact(Skip = "not yet seen to pass: written at the end of issue 16's session (its first run met the nodes' AllowedCommands, now given); enable it once it runs green")]
    public async Task A_silo_frozen_past_the_membership_timeout_and_resumed_stops_instead_of_acting_on_stale_ownership()
    {
        var gateways = _cluster.Gateways;
        string sessionId;
        // Made through session-manager-1's gateway, so that its silo holds the session's grain.
        await using (var owner = _cluster.Client(gateways[0]))
            sessionId = await StartSessionAsync(owner);
        await using var client = _cluster.Client($"{gateways[1]},{gateways[0]}");
        await WaitForSuccessesAsync(client, sessionId, 100);

        var group = _cluster.ProcessGroup("session-manager-1");
        _frozen = group;
        await Processes.SignalAsync("STOP", group, group: true);
        using var survivor = GrpcFlameClient.CreateChannel(FlameClientConfig.ResolveConnection([gateways[1]], environment: name => name switch
        {
            "FLAME_CA_FILE" => _cluster.Env["FLAME_CA_FILE"],
            "FLAME_TOKEN_FILE" => _cluster.Env["FLAME_TOKEN_FILE"],
            _ => null,
        }));
        var cluster = new Flame.V1.ClusterExt.ClusterExtClient(survivor);
        Flame.V1.ClusterStatus? status = null;
        await Wait.UntilAsync(
            async () => (status = await cluster.GetClusterStatusAsync(new Flame.V1.GetClusterStatusRequest())).Silos.Any(s => s.Status == "Dead"),
            "the frozen silo to be declared Dead by the other one", TimeSpan.FromSeconds(60),
            seen: () => Task.FromResult(string.Join(", ", status?.Silos.Select(s => $"{s.Name} {s.Status}") ?? [])),
            context: _cluster.Logs);

        await Processes.SignalAsync("CONT", group, group: true);
        _frozen = null;
        // It reads the membership, finds itself dead and stops (Orleans kills a silo declared dead): no stale turn runs on.
        await Wait.UntilAsync(() => Processes.HasExited(group),
            "the resumed silo (session-manager-1) to stop, having been declared dead", TimeSpan.FromSeconds(60));

        await FinishAndCheckAsync(client, sessionId);
    }

    private static async Task<string> StartSessionAsync(GrpcFlameClient client)
    {
        var app = $"silo-freeze-{Guid.NewGuid().ToString("N")[..6]}";
        await client.RegisterApplicationAsync(app, new ApplicationSpec
        {
            Command = Programs.DotnetHost,
            Arguments = [Programs.PathOf(Programs.TestService)],
            DelayRelease = 5,
        });
        var session = await client.CreateSessionAsync(app, new SessionSpec { Application = app });
        await client.CreateTasksAsync(session.Id, Enumerable.Range(1, Tasks).Select(i => (byte[]?)Utf8($"slowecho:5:out-{i}")).ToList());
        return session.Id;
    }

    private async Task WaitForSuccessesAsync(GrpcFlameClient client, string sessionId, int succeeded)
    {
        SessionInfo? last = null;
        await Wait.UntilAsync(
            async () => (last = await client.GetSessionAsync(sessionId)).Status.Succeed >= succeeded,
            $"{succeeded} tasks to succeed before the freeze", TasksTimeout,
            seen: () => Task.FromResult(Describe(last)), context: _cluster.Logs);
    }

    private async Task FinishAndCheckAsync(GrpcFlameClient client, string sessionId)
    {
        SessionInfo? last = null;
        await Wait.UntilAsync(
            async () =>
            {
                last = await client.GetSessionAsync(sessionId);
                return last.Status.Succeed + last.Status.Failed + last.Status.Cancelled == Tasks;
            },
            $"all {Tasks} tasks to be terminal after the freeze", TimeSpan.FromSeconds(240),
            seen: () => Task.FromResult(Describe(last)), context: _cluster.Logs);
        var tasks = await client.CheckTasksAsync(sessionId, Tasks);
        Assert.All(tasks, t => Assert.True(t.State == TaskState.Succeed && Text(t.Output) == $"out-{t.Id}",
            $"task {t.Id} should have succeeded with out-{t.Id}, is {t.State} with {Text(t.Output)}: {Describe(t.Events)}"));
        await client.CloseSessionAsync(sessionId);
    }
}
