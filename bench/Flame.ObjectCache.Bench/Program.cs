using System.Diagnostics;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Flame.ObjectCache;
using Flame.SessionManager.Hosting;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Put and get MiB/s per object size and the not-modified read's latency, through the cache of a session manager
// hosted here (memory store unless --sqlite), and the same exchanges against a bare Flight server that keeps the last
// put in a field: the loopback limit of the same bytes in the same gRPC streams, without grains or a store.
var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3;
var provider = args.Contains("--sqlite") ? "Sqlite" : "Memory";
Console.WriteLine($"object-cache bench: {seconds} s per figure, store {provider}, {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

var cachePort = FreePorts.Next();
var data = Directory.CreateTempSubdirectory("flame-cache-bench-").FullName;
var settings = new Dictionary<string, string?>
{
    ["Flame:SessionManager:Endpoint"] = $"http://127.0.0.1:{FreePorts.Next()}",
    ["Flame:SessionManager:BackendEndpoint"] = $"http://127.0.0.1:{FreePorts.Next()}",
    ["Flame:SessionManager:SiloPort"] = FreePorts.Next().ToString(),
    ["Flame:SessionManager:OrleansGatewayPort"] = FreePorts.Next().ToString(),
    ["Flame:SessionManager:EmbeddedExecutorManager"] = "false",
    ["Flame:SessionManager:RegisterBuiltInApplications"] = "false",
    ["Flame:Storage:Provider"] = provider,
    ["Flame:Storage:DataDirectory"] = data,
    ["Flame:ObjectCache:Endpoint"] = $"grpc://127.0.0.1:{cachePort}",
    ["Logging:LogLevel:Default"] = "Warning",
};
var app = SessionManagerApp.Create([], settings);
await app.PrepareAsync();
await app.StartAsync();

var barePort = FreePorts.Next();
var bare = WebApplication.CreateSlimBuilder();
bare.Logging.ClearProviders();
bare.Services.AddGrpc(o => (o.MaxReceiveMessageSize, o.MaxSendMessageSize) = (null, null)).AddFlightServer<BareFlightServer>();
bare.WebHost.ConfigureKestrel(k => k.ListenLocalhost(barePort, l => l.Protocols = HttpProtocols.Http2));
var bareApp = bare.Build();
bareApp.MapFlightEndpoint();
await bareApp.StartAsync();

Console.WriteLine("| size | cache put MiB/s | cache get MiB/s | bare put MiB/s | bare get MiB/s |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var size in new[] { 1024, 1024 * 1024, 64 * 1024 * 1024 })
{
    var payload = new byte[size];
    Random.Shared.NextBytes(payload);
    var cache = await Measure($"grpc://127.0.0.1:{cachePort}", payload, seconds);
    var plain = await Measure($"grpc://127.0.0.1:{barePort}", payload, seconds);
    Console.WriteLine($"| {Size(size)} | {cache.Put:F1} | {cache.Get:F1} | {plain.Put:F1} | {plain.Get:F1} |");
}
var (cacheNotModified, bareEmpty) = (await NotModified($"grpc://127.0.0.1:{cachePort}", seconds), await NotModified($"grpc://127.0.0.1:{barePort}", seconds));
Console.WriteLine($"not-modified get (1 MiB object): cache p50 {cacheNotModified.P50:F3} ms, p99 {cacheNotModified.P99:F3} ms; bare empty stream p50 {bareEmpty.P50:F3} ms, p99 {bareEmpty.P99:F3} ms");

await bareApp.StopAsync();
await app.StopAsync();
Directory.Delete(data, recursive: true);
return 0;

static string Size(int bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

// Puts (updates of one key) for the time given, then conditional-free reads (version 0: the full object) as long.
static async Task<(double Put, double Get)> Measure(string endpoint, byte[] payload, double seconds)
{
    using var client = new ObjectCacheClient(endpoint);
    // Updates and reads go where the ref points; the bare server's refs point nowhere, so both use the dialled one.
    var reference = (await client.PutObjectAsync("bench/s1", payload)) with { Endpoint = endpoint };
    var (puts, putTime) = await Repeat(seconds, () => client.UpdateObjectAsync(reference with { Version = 0 }, payload));
    var (gets, getTime) = await Repeat(seconds, () => client.GetObjectAsync(reference with { Version = 0 }));
    double MiBs(long n, TimeSpan t) => n * (double)payload.Length / (1 << 20) / t.TotalSeconds;
    return (MiBs(puts, putTime), MiBs(gets, getTime));
}

static async Task<(double P50, double P99)> NotModified(string endpoint, double seconds)
{
    using var channel = GrpcChannel.ForAddress(endpoint.Replace("grpc://", "http://", StringComparison.Ordinal));
    var flight = new Apache.Arrow.Flight.Client.FlightClient(channel);
    using var client = new ObjectCacheClient(endpoint);
    var reference = await client.PutObjectAsync("bench/s1", new byte[1 << 20]);
    var ticket = new FlightTicket($"{reference.Key}:{reference.Version}");
    var latencies = new List<double>();
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        var start = Stopwatch.GetTimestamp();
        using var call = flight.GetStream(ticket);
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
        latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
    latencies.Sort();
    return (latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)]);
}

static async Task<(long Count, TimeSpan Elapsed)> Repeat(double seconds, Func<Task> work)
{
    await work();
    long count = 0;
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds || count < 3)
    {
        await work();
        count++;
    }
    return (count, clock.Elapsed);
}

/// <summary>The loopback limit: a Flight server that keeps the last put's bytes and answers every get with them, or an empty stream when the ticket names its version.</summary>
internal sealed class BareFlightServer : FlightServer
{
    private static Apache.Arrow.RecordBatch? LastResponse;
    private static long LastVersion;

    public override async Task DoPut(FlightServerRecordBatchStreamReader requestStream, IAsyncStreamWriter<FlightPutResult> responseStream, ServerCallContext context)
    {
        await requestStream.Schema;
        var descriptor = await requestStream.FlightDescriptor;
        Apache.Arrow.RecordBatch? last = null;
        while (await requestStream.MoveNext(context.CancellationToken))
            last = requestStream.Current;
        var version = Interlocked.Increment(ref LastVersion);
        // Built once per put, as the cache builds its rows over the stored bytes: a get only sends.
        var bytes = ((Apache.Arrow.BinaryArray)last!.Column(1)).GetBytes(0).ToArray();
        LastResponse = new Apache.Arrow.RecordBatch(ObjectSchemas.Response,
            [new Apache.Arrow.UInt64Array.Builder().Append((ulong)version).Build(), new Apache.Arrow.StringArray.Builder().Append("base").Build(),
             new Apache.Arrow.BinaryArray.Builder().Append(bytes.AsSpan()).Build()], 1);
        var key = string.Join('/', descriptor.Paths) is { } k && k.Split('/').Length == 3 ? k : "bench/s1/bare";
        await responseStream.WriteAsync(new FlightPutResult(Google.Protobuf.ByteString.CopyFrom(new ObjectRef("bare", key, version).ToBson())));
    }

    public override async Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
    {
        await responseStream.SetupStream(ObjectSchemas.Response);
        if (ticket.Ticket.ToStringUtf8().EndsWith(":" + Interlocked.Read(ref LastVersion), StringComparison.Ordinal) || LastResponse is not { } batch)
            return;
        await responseStream.WriteAsync(batch);
    }
}
