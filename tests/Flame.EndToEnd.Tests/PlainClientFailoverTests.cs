using System.Globalization;
using Flame.Client;
using Flame.Client.Configuration;
using Flame.EndToEnd.Tests.Support;
using Grpc.Core;
using Xunit.Abstractions;

namespace Flame.EndToEnd.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;

/// <summary>
/// Issue 21 for clients that are not ours: a client of the bare flame.v1 stubs that does what the README asks of one
/// (on UNAVAILABLE, reconnect to another gateway and send the create again with the same flame-idempotency-key) sees
/// no error other than UNAVAILABLE while the silo of its gateway dies, and no task is created twice.
/// </summary>
public sealed class PlainClientFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Creates = 600;

    // Many creates in flight when the silo dies, so that some were committed and their answers lost: with eight, the
    // Python twin of this test (PythonClientFailoverTests) did not catch a session without its dedupe.
    private const int InFlight = 32;

    private LocalCluster _cluster = null!;

    public async System.Threading.Tasks.Task InitializeAsync() => _cluster = await LocalCluster.StartAsync();

    public System.Threading.Tasks.Task DisposeAsync() => _cluster.StopAsync();

    [Fact]
    public async System.Threading.Tasks.Task A_plain_flame_v1_client_that_retries_with_its_key_sees_only_UNAVAILABLE_and_no_duplicate()
    {
        var seed = int.TryParse(System.Environment.GetEnvironmentVariable("FLAME_E2E_SEED"), CultureInfo.InvariantCulture, out var given)
            ? given : Random.Shared.Next();
        var killAt = new Random(seed).Next(1, Creates / 2);
        output.WriteLine($"seed {seed} (replay with FLAME_E2E_SEED={seed}): session-manager-1 is killed after create {killAt} of {Creates}");

        // One channel per gateway, each with the cluster's CA and token; the calls themselves are the bare stubs'.
        var channels = _cluster.Gateways.Select(g => GrpcFlameClient.CreateChannel(FlameClientConfig.ResolveConnection([g], environment: name => name switch
        {
            "FLAME_CA_FILE" => _cluster.Env["FLAME_CA_FILE"],
            "FLAME_TOKEN_FILE" => _cluster.Env["FLAME_TOKEN_FILE"],
            _ => null,
        }))).ToArray();
        try
        {
            var gateway = 0; // the gateway in use; a worker that meets UNAVAILABLE moves everyone to the next
            Frontend.FrontendClient Stub() => new(channels[gateway]);
            // Made through the gateway that dies: the session's grain is placed on its silo.
            var session = (await Stub().CreateSessionAsync(new CreateSessionRequest { Session = new SessionSpec { Application = "flmping" } })).Metadata.Id;

            // InFlight creates at a time, so that some are in flight when the silo dies: their answers are lost.
            var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
            var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
            var unavailable = 0;
            var next = 0;
            var done = 0;
            async System.Threading.Tasks.Task WorkerAsync()
            {
                for (var i = Interlocked.Increment(ref next); i <= Creates; i = Interlocked.Increment(ref next))
                {
                    var headers = new global::Grpc.Core.Metadata { { "flame-idempotency-key", $"plain-{i}" } };
                    var request = new CreateTaskRequest { Task = new TaskSpec { SessionId = session } };
                    for (var attempt = 1; ; attempt++)
                    {
                        try
                        {
                            ids.Add((await Stub().CreateTaskAsync(request, headers, deadline: DateTime.UtcNow.AddSeconds(60))).Metadata.Id);
                            break;
                        }
                        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 100)
                        {
                            Interlocked.Increment(ref unavailable);
                            gateway = 1; // what a client that knows several gateways does: the next one
                            // The client's own back-off between attempts, not a wait for the test.
                            await System.Threading.Tasks.Task.Delay(TimeSpan.FromMilliseconds(100 * Math.Min(attempt, 10)));
                        }
                        catch (RpcException ex)
                        {
                            errors.Add($"create {i}: {ex.StatusCode}: {ex.Status.Detail}");
                            break;
                        }
                    }
                    if (Interlocked.Increment(ref done) == killAt)
                        await _cluster.KillAsync("session-manager-1");
                }
            }
            await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => WorkerAsync()));
            output.WriteLine($"{unavailable} UNAVAILABLE answer(s), each followed by a retry with the same key");

            Assert.True(errors.Count == 0, $"errors other than UNAVAILABLE: {string.Join("; ", errors.Take(5))}{_cluster.Logs()}");
            Assert.Equal(Creates, ids.Distinct().Count());
            var status = (await Stub().GetSessionAsync(new GetSessionRequest { SessionId = session })).Status;
            Assert.Equal(Creates, status.Pending + status.Running + status.Succeed + status.Failed + status.Cancelled);
        }
        finally
        {
            foreach (var channel in channels)
                channel.Dispose();
        }
    }
}
