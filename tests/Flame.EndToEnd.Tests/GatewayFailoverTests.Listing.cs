using Flame.EndToEnd.Tests.Support;

namespace Flame.EndToEnd.Tests;

public sealed partial class GatewayFailoverTests
{
    /// <summary>
    /// ListTask through both gateways, read slowly, outlives the silo of the gateway it reads from, killed once 100
    /// tasks are read: the listing resumes on the other gateway and holds every task once, in order. The tasks carry
    /// 16 KiB each, 32 MiB in all, more than HTTP/2 lets a gateway send ahead of the reader, so the stream is still
    /// being sent when the silo dies. Then flmctl, given both gateways with the dead one first, reads the session (whose
    /// grain lived on the dead silo), the sessions and the nodes.
    /// </summary>
    [Fact]
    public async Task A_task_listing_and_flmctl_through_both_gateways_carry_on_when_the_silo_of_the_first_gateway_is_killed()
    {
        const int tasks = 2000;
        const int batch = 100;
        var gateways = _cluster.Gateways;
        await using var client = _cluster.Client($"{gateways[0]},{gateways[1]}");
        var session = await client.CreateSessionAsync(null, new SessionSpec { Application = "flmping" });
        var inputs = Enumerable.Repeat<byte[]?>(new byte[16 * 1024], batch).ToArray();
        for (var created = 0; created < tasks; created += batch)
            await client.CreateTasksAsync(session.Id, inputs);
        // Closed, its pending tasks are cancelled: the listing reads tasks that no longer change.
        await client.CloseSessionAsync(session.Id);

        var listed = new List<long>();
        await foreach (var task in client.ListTasksAsync(session.Id))
        {
            listed.Add(task.Id);
            if (listed.Count == batch)
                await _cluster.KillAsync("session-manager-1");
        }
        Assert.Equal(Enumerable.Range(1, tasks).Select(i => (long)i), listed);

        string[] both = ["--endpoint", gateways[0], "--endpoint", gateways[1]];
        foreach (var command in new[] { new[] { "view", "-s", session.Id }, ["list", "-s"], ["list", "-n"] })
        {
            using var flmctl = ChildProcess.StartProgram("flmctl", "flmctl", [.. command, .. both], new Dictionary<string, string?>
            {
                ["FLAME_CA_FILE"] = _cluster.Env["FLAME_CA_FILE"],
                ["FLAME_TOKEN_FILE"] = _cluster.Env["FLAME_TOKEN_FILE"],
                ["FLAME_ENDPOINT"] = null,
            });
            var exitCode = await flmctl.WaitForExitAsync(RunTimeout, $"flmctl {string.Join(' ', command)} to answer");
            Assert.True(exitCode == 0, $"flmctl {string.Join(' ', command)} should exit 0, exited {exitCode}:{flmctl.Tail()}{_cluster.Logs()}");
            Assert.Empty(flmctl.StandardError);
            if (command[0] != "list" || command[1] != "-n")
                Assert.Contains(flmctl.StandardOutput, l => l.Contains(session.Id, StringComparison.Ordinal));
        }
    }
}
