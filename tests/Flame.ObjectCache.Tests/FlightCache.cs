using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.ObjectCache.Tests;

/// <summary>A session manager with its object cache, and Apache Arrow's own Flight client dialling it over loopback.</summary>
public sealed class FlightCache : IAsyncDisposable
{
    /// <summary>What every ref must carry: the spec's example advertised URI, set by configuration.</summary>
    public const string Advertised = "grpc://10.0.0.7:9090";

    private readonly GrpcChannel _channel;

    private FlightCache(InProcessGateway gateway, string address)
    {
        Gateway = gateway;
        Address = address;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
        Client = new FlightClient(_channel);
    }

    public InProcessGateway Gateway { get; }

    public string Address { get; }

    public FlightClient Client { get; }

    public static async Task<FlightCache> StartAsync(IReadOnlyDictionary<string, string?>? overrides = null, int? port = null)
    {
        port ??= FreePorts.Next();
        var settings = new Dictionary<string, string?>
        {
            ["Flame:ObjectCache:Endpoint"] = $"grpc://127.0.0.1:{port}",
            ["Flame:ObjectCache:AdvertisedEndpoint"] = Advertised,
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        return new FlightCache(await InProcessGateway.StartAsync(settings), $"http://127.0.0.1:{port}");
    }

    /// <summary>DoPut: the descriptor and schema, the batches, half-close; the PutResults' metadata.</summary>
    public async Task<List<byte[]>> PutAsync(FlightDescriptor descriptor, Schema schema, params RecordBatch[] batches)
    {
        using var call = await Client.StartPut(descriptor, schema);
        foreach (var batch in batches)
            await call.RequestStream.WriteAsync(batch);
        await call.RequestStream.CompleteAsync();
        var results = new List<byte[]>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
            results.Add(call.ResponseStream.Current.ApplicationMetadata.ToByteArray());
        return results;
    }

    /// <summary>A put that must succeed with one PutResult: its ref.</summary>
    public async Task<ObjectRef> PutRefAsync(FlightDescriptor descriptor, Schema schema, params RecordBatch[] batches)
    {
        var results = await PutAsync(descriptor, schema, batches);
        return ObjectRef.FromBson(Assert.Single(results));
    }

    /// <summary>An opaque put of one row <c>(0, data)</c>.</summary>
    public Task<ObjectRef> PutBytesAsync(FlightDescriptor descriptor, byte[] data) =>
        PutRefAsync(descriptor, ObjectSchemas.Upload, ObjectSchemas.UploadBatch(data));

    /// <summary>DoGet of a ticket: the schema and every batch.</summary>
    public async Task<(Schema Schema, List<RecordBatch> Batches)> GetAsync(string ticket)
    {
        using var call = Client.GetStream(new FlightTicket(ticket));
        var schema = await call.ResponseStream.Schema;
        var batches = new List<RecordBatch>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
            batches.Add(call.ResponseStream.Current);
        return (schema, batches);
    }

    /// <summary>The response rows of a read, in order; data in hex, so that rows compare by value.</summary>
    public async Task<List<(ulong Version, string Kind, string Data)>> RowsAsync(string ticket)
    {
        var (schema, batches) = await GetAsync(ticket);
        AssertResponseSchema(schema);
        var rows = new List<(ulong, string, string)>();
        foreach (var batch in batches)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                rows.Add((((UInt64Array)batch.Column(0)).GetValue(i)!.Value, ((StringArray)batch.Column(1)).GetString(i),
                    Convert.ToHexString(((BinaryArray)batch.Column(2)).GetBytes(i))));
            }
        }
        return rows;
    }

    /// <summary><c>version: uint64, kind: utf8, data: binary</c>, no metadata.</summary>
    public static void AssertResponseSchema(Schema schema)
    {
        Assert.Equal(["version", "kind", "data"], schema.FieldsList.Select(f => f.Name));
        Assert.Equal([Apache.Arrow.Types.ArrowTypeId.UInt64, Apache.Arrow.Types.ArrowTypeId.String, Apache.Arrow.Types.ArrowTypeId.Binary],
            schema.FieldsList.Select(f => f.DataType.TypeId));
        Assert.True(schema.Metadata is null || schema.Metadata.Count == 0);
    }

    /// <summary>DoAction: every result body as text.</summary>
    public async Task<List<string>> ActionAsync(string type, string body)
    {
        using var call = Client.DoAction(new FlightAction(type, body));
        var results = new List<string>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
            results.Add(call.ResponseStream.Current.Body.ToStringUtf8());
        return results;
    }

    /// <summary>The status code a call fails with.</summary>
    public static async Task<StatusCode> CodeOfAsync(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).StatusCode;

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await Gateway.DisposeAsync();
    }
}
