using System.Diagnostics;
using Flame.Client;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.Benchmarks;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// CreateTask throughput through the real gRPC gateway: C loops, each with one unary call in flight,
/// over K channels of loopback HTTP/2, into one session. Bounded: it stops after the warm-up plus N calls.
/// </summary>
internal static class CreateTaskBenchmark
{
    public static async Task<BenchmarkResult> RunAsync(CreateTaskOptions o)
    {
        Report.Title("create-task: CreateTask over gRPC (flame.v1 Frontend, loopback HTTP/2)");
        HostedSessionManager? hosted = null;
        StubFrontendServer? stub = null;
        var endpoint = o.Endpoint;
        if (o.Stub)
        {
            stub = await StubFrontendServer.StartAsync();
            endpoint = stub.Endpoint;
            Report.Text("server", $"in-process STUB Frontend at {endpoint}: gRPC only, no Orleans, no grain");
            Report.Text("", $"(client and server share this process and its {System.Environment.ProcessorCount} cores)");
        }
        else if (endpoint is null)
        {
            hosted = await HostedSessionManager.StartAsync();
            endpoint = hosted.Endpoint;
            Report.Text("server", $"in-process session manager at {endpoint}");
            Report.Text("", $"(client and server share this process and its {System.Environment.ProcessorCount} cores)");
        }
        else
        {
            Report.Text("server", $"external session manager at {endpoint}" + (o.ServerPid is { } pid ? $" (pid {pid})" : ""));
        }

        var channels = new GrpcChannel[o.Channels];
        try
        {
            for (var i = 0; i < channels.Length; i++)
                channels[i] = GrpcChannel.ForAddress(endpoint, GrpcFlameClient.CreateChannelOptions());
            var clients = channels.Select(c => new Frontend.FrontendClient(c)).ToArray();
            return await MeasureAsync(o, clients[0], clients);
        }
        catch (RpcException ex)
        {
            Report.Text("error", $"{ex.StatusCode}: {ex.Status.Detail}");
            return new BenchmarkResult(1, $"error {ex.StatusCode}: {ex.Status.Detail}");
        }
        finally
        {
            foreach (var channel in channels)
                channel?.Dispose();
            if (hosted is not null)
                await hosted.DisposeAsync();
            if (stub is not null)
                await stub.DisposeAsync();
        }
    }

    private static async Task<BenchmarkResult> MeasureAsync(CreateTaskOptions o, Frontend.FrontendClient admin, Frontend.FrontendClient[] clients)
    {
        var application = "bench-" + Guid.NewGuid().ToString("N")[..8];
        await admin.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = application,
            Application = new ApplicationSpec { Command = "/bin/true", Description = "Flame.Benchmarks create-task" },
        });
        var session = await admin.CreateSessionAsync(new CreateSessionRequest { Session = new SessionSpec { Application = application } });
        var sessionId = session.Metadata.Id;
        var input = o.InputBytes > 0 ? ByteString.CopyFrom(RandomBytes(o.InputBytes)) : null;

        Report.Text("session", sessionId);
        Report.Figure("input per task", o.InputBytes, o.InputBytes == 0 ? "bytes (no input field)" : "bytes");
        Report.Figure("calls in flight", o.Concurrency, "");
        Report.Figure("gRPC channels", o.Channels, "");

        var warmup = Stopwatch.StartNew();
        await RunLoopsAsync(clients, sessionId, input, o.Warmup, o.Concurrency, latencies: null);
        Report.Figure("warm-up tasks (not counted)", o.Warmup, $"in {Report.Format(warmup.Elapsed.TotalSeconds, 2)} s");

        var latencies = new long[o.Tasks];
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        using var sampler = o.AllocTypes > 0 ? new AllocationSampler() : null;
        sampler?.Start();
        var meter = new ProcessMeter(o.ServerPid);
        await RunLoopsAsync(clients, sessionId, input, o.Tasks, o.Concurrency, latencies);
        var reading = meter.Read();
        sampler?.Stop();

        Array.Sort(latencies);
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double Percentile(double p) => Ms(latencies[(int)Math.Min(latencies.Length - 1, Math.Ceiling(p * latencies.Length) - 1)]);
        var seconds = reading.Elapsed.TotalSeconds;
        var throughput = o.Tasks / seconds;
        var p50 = Percentile(0.50);
        var p99 = Percentile(0.99);

        Report.Figure("tasks", o.Tasks, "");
        Report.Figure("seconds", seconds, "s", 3);
        Report.Figure("throughput", throughput, "tasks/s");
        Report.Figure("latency p50", p50, "ms", 3);
        Report.Figure("latency p90", Percentile(0.90), "ms", 3);
        Report.Figure("latency p99", p99, "ms", 3);
        Report.Figure("latency max", Ms(latencies[^1]), "ms", 3);
        Report.Figure("latency mean", latencies.Average(t => Ms(t)), "ms", 3);
        var who = o.Endpoint is null ? "client+server" : "client";
        Report.Figure($"CPU time, this process ({who})", reading.Cpu.TotalSeconds, "s", 2);
        Report.Figure($"CPU per task, this process ({who})", reading.Cpu.TotalMicroseconds / o.Tasks, "µs", 1);
        Report.Figure("CPU use, this process", reading.CpuPercentOfMachine(reading.Cpu), $"% of {System.Environment.ProcessorCount} cores");
        if (reading.OtherCpu is { } serverCpu)
        {
            Report.Figure("CPU time, server process", serverCpu.TotalSeconds, "s", 2);
            Report.Figure("CPU per task, server process", serverCpu.TotalMicroseconds / o.Tasks, "µs", 1);
            Report.Figure("CPU use, server process", reading.CpuPercentOfMachine(serverCpu), $"% of {System.Environment.ProcessorCount} cores");
        }
        Report.Figure($"allocated per task, this process ({who})", (double)reading.Allocated / o.Tasks, "bytes");
        Report.Text("GCs, this process (gen0/gen1/gen2)", $"{reading.Gen0}/{reading.Gen1}/{reading.Gen2}");
        if (sampler is not null)
        {
            Report.Text("allocations by type (sampled)", "bytes per task, share");
            foreach (var (type, bytes, share) in sampler.Top(o.AllocTypes))
                Report.Text("", $"{Report.Format((double)bytes / o.Tasks, 0),8} B  {Report.Format(share * 100, 1),5} %  {type}");
        }

        var expected = o.Warmup + o.Tasks;
        var after = await admin.GetSessionAsync(new GetSessionRequest { SessionId = sessionId });
        var status = after.Status;
        var ok = status.Pending == expected;
        Report.Text("check: pending = warm-up + tasks",
            ok ? $"OK ({status.Pending})" : $"MISMATCH: pending {status.Pending}, expected {expected}");
        if (!ok && status.Running + status.Succeed + status.Failed + status.Cancelled > 0)
            Report.Text("", $"running {status.Running}, succeed {status.Succeed}, failed {status.Failed}, cancelled {status.Cancelled}: " +
                "executors took tasks; run the session manager with --Flame:SessionManager:EmbeddedExecutorManager=false and no executor manager");

        // Leave an external server as we found it: the closed, deleted session frees its task table.
        await admin.CloseSessionAsync(new CloseSessionRequest { SessionId = sessionId });
        await admin.DeleteSessionAsync(new DeleteSessionRequest { SessionId = sessionId });
        await admin.UnregisterApplicationAsync(new UnregisterApplicationRequest { Name = application });

        var where = o.Stub ? "in-process STUB server" : o.Endpoint is null ? "in-process server" : "external server";
        return new BenchmarkResult(ok ? 0 : 1,
            $"{Report.Format(throughput)} tasks/s, p50 {Report.Format(p50, 2)} ms, p99 {Report.Format(p99, 2)} ms " +
            $"({o.Tasks} tasks, {o.Concurrency} in flight, {where}){(ok ? "" : ", PENDING MISMATCH")}");
    }

    /// <summary>
    /// <paramref name="concurrency"/> loops share one counter and stop after <paramref name="count"/> calls in all;
    /// each records its call's latency at the call's number.
    /// </summary>
    private static async Task RunLoopsAsync(
        Frontend.FrontendClient[] clients, string sessionId, ByteString? input, long count, int concurrency, long[]? latencies)
    {
        var next = -1L;
        var loops = new Task[concurrency];
        for (var i = 0; i < loops.Length; i++)
        {
            var client = clients[i % clients.Length];
            loops[i] = Task.Run(async () =>
            {
                var spec = new TaskSpec { SessionId = sessionId };
                if (input is not null)
                    spec.Input = input;
                var request = new CreateTaskRequest { Task = spec };
                long n;
                while ((n = Interlocked.Increment(ref next)) < count)
                {
                    var start = Stopwatch.GetTimestamp();
                    using var call = client.CreateTaskAsync(request);
                    await call.ResponseAsync.ConfigureAwait(false);
                    if (latencies is not null)
                        latencies[n] = Stopwatch.GetTimestamp() - start;
                }
            });
        }
        await Task.WhenAll(loops);
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
