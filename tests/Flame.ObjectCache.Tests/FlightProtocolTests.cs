using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Types;
using Grpc.Core;

namespace Flame.ObjectCache.Tests;

/// <summary>One session manager with its cache for the protocol tests; each test uses an app of its own.</summary>
public sealed class CacheFixture : IAsyncLifetime
{
    public FlightCache Cache { get; private set; } = null!;

    public async Task InitializeAsync() => Cache = await FlightCache.StartAsync();

    public async Task DisposeAsync() => await Cache.DisposeAsync();
}

/// <summary>
/// The example exchanges of flame-object-cache §13, replayed with Apache Arrow's Flight client: descriptors, tickets,
/// schemas, metadata, rows, BSON refs and status codes.
/// </summary>
public sealed class FlightProtocolTests(CacheFixture fixture) : IClassFixture<CacheFixture>
{
    private static string H(byte[] bytes) => Convert.ToHexString(bytes);

    private static readonly byte[] P42 = Convert.FromHexString("464c4d0080054b2a2e");
    private static readonly byte[] P43 = Convert.FromHexString("464c4d0080054b2b2e");
    private static readonly byte[] PatchV1 = "FLM\0patch-v1"u8.ToArray();
    private static readonly byte[] PatchV2 = "FLM\0patch-v2"u8.ToArray();

    private FlightCache Cache => fixture.Cache;

    private static FlightDescriptor Path(string key) => FlightDescriptor.CreatePathDescriptor(key);

    [Fact]
    public async Task PutToAPrefix_GeneratesAnId_AndAnswersOneBsonRefAtVersion1_ThenGetAndNotModifiedFollowTheSpec()
    {
        var results = await Cache.PutAsync(Path("ex1/s1"), ObjectSchemas.Upload, ObjectSchemas.UploadBatch(P42));
        var bson = Assert.Single(results);
        var reference = ObjectRef.FromBson(bson);
        Assert.Matches("^ex1/s1/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", reference.Key);
        // Byte for byte the document the spec describes: endpoint, key (strings), version (int64), in this order.
        Assert.Equal(new ObjectRef(FlightCache.Advertised, reference.Key, 1).ToBson(), bson);

        Assert.Equal([(1UL, "base", H(P42))], await Cache.RowsAsync($"{reference.Key}:0"));
        Assert.Empty(await Cache.RowsAsync($"{reference.Key}:1"));
        // No ':' means version 0.
        Assert.Equal([(1UL, "base", H(P42))], await Cache.RowsAsync(reference.Key));
    }

    [Fact]
    public async Task UpdatesAndPatches_FollowEveryVersionRuleOfTheSpec()
    {
        var k = (await Cache.PutBytesAsync(Path("ex4/s1"), P42)).Key;
        Assert.Equal(2, (await Cache.PutBytesAsync(Path(k), P43)).Version);
        Assert.Equal([(2UL, "base", H(P43))], await Cache.RowsAsync($"{k}:1"));

        var patch = FlightDescriptor.CreateCommandDescriptor("PATCH:" + k);
        Assert.Equal(new ObjectRef(FlightCache.Advertised, k, 3), await Cache.PutBytesAsync(patch, PatchV1));
        Assert.Equal(new ObjectRef(FlightCache.Advertised, k, 4), await Cache.PutBytesAsync(patch, PatchV2));

        Assert.Equal([(3UL, "patch", H(PatchV1)), (4UL, "patch", H(PatchV2))], await Cache.RowsAsync($"{k}:2"));
        Assert.Equal([(4UL, "patch", H(PatchV2))], await Cache.RowsAsync($"{k}:3"));
        List<(ulong, string, string)> full = [(2UL, "base", H(P43)), (3UL, "patch", H(PatchV1)), (4UL, "patch", H(PatchV2))];
        Assert.Equal(full, await Cache.RowsAsync($"{k}:0"));
        Assert.Equal(full, await Cache.RowsAsync($"{k}:1"));
        Assert.Equal(full, await Cache.RowsAsync($"{k}:9"));
        Assert.Empty(await Cache.RowsAsync($"{k}:4"));

        // A put drops the patches: the base is the whole object again.
        Assert.Equal(5, (await Cache.PutBytesAsync(Path(k), P42)).Version);
        Assert.Equal([(5UL, "base", H(P42))], await Cache.RowsAsync($"{k}:4"));
    }

    [Fact]
    public async Task NativeTables_KeepTheirSchemaMetadataAndBatches_AndNotModifiedUsesThePlainResponseSchema()
    {
        var schema = new Schema.Builder()
            .Field(new Field("id", Int64Type.Default, true))
            .Field(new Field("name", StringType.Default, true))
            .Metadata(ObjectSchemas.FormatKey, ObjectSchemas.NativeFormat)
            .Metadata(ObjectSchemas.VersionKey, "0")
            .Metadata(ObjectSchemas.LogicalTypeKey, "pyarrow.table")
            .Metadata("owner", "t")
            .Build();
        RecordBatch Batch(long[] ids, string[] names) => new(schema,
            [new Int64Array.Builder().AppendRange(ids).Build(), new StringArray.Builder().AppendRange(names).Build()], ids.Length);

        var n = await Cache.PutRefAsync(Path("ex11/s1"), schema, Batch([1, 2], ["a", "b"]), Batch([3], ["c"]));
        Assert.Equal(1, n.Version);

        var (read, batches) = await Cache.GetAsync($"{n.Key}:0");
        Assert.Equal(["id", "name"], read.FieldsList.Select(f => f.Name));
        Assert.Equal(new Dictionary<string, string>
        {
            [ObjectSchemas.FormatKey] = ObjectSchemas.NativeFormat,
            [ObjectSchemas.VersionKey] = "1",
            [ObjectSchemas.LogicalTypeKey] = "pyarrow.table",
            ["owner"] = "t",
        }, read.Metadata);
        Assert.Equal([2, 1], batches.Select(b => b.Length));
        Assert.Equal([1L, 2L, 3L], batches.SelectMany(b => ((Int64Array)b.Column(0)).Values.ToArray()));
        Assert.Equal(["a", "b", "c"], batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => ((StringArray)b.Column(1)).GetString(i))));

        var (notModified, none) = await Cache.GetAsync($"{n.Key}:1");
        FlightCache.AssertResponseSchema(notModified);
        Assert.Empty(none);

        Assert.Equal(2, (await Cache.PutRefAsync(Path(n.Key), schema, Batch([9], ["z"]))).Version);
        var (updated, rows) = await Cache.GetAsync($"{n.Key}:1");
        Assert.Equal("2", updated.Metadata[ObjectSchemas.VersionKey]);
        Assert.Equal([9L], rows.SelectMany(b => ((Int64Array)b.Column(0)).Values.ToArray()));
    }

    [Fact]
    public async Task Upload_ToAFullKey_StoresEveryRowOfEveryBatchConcatenated()
    {
        var reference = await Cache.PutRefAsync(Path("ex15/pkg/ex15.tar.gz"), ObjectSchemas.Upload,
            ObjectSchemas.UploadBatch("c1"u8.ToArray()), ObjectSchemas.UploadBatch("c2"u8.ToArray()), ObjectSchemas.UploadBatch("c3"u8.ToArray()));
        Assert.Equal(new ObjectRef(FlightCache.Advertised, "ex15/pkg/ex15.tar.gz", 1), reference);
        Assert.Equal([(1UL, "base", H("c1c2c3"u8.ToArray()))], await Cache.RowsAsync("ex15/pkg/ex15.tar.gz:0"));
    }

    [Fact]
    public async Task GetFlightInfo_AnswersTheKeyAsTicket_AndTheAdvertisedLocation_EvenForAnUnknownKey()
    {
        var k = (await Cache.PutBytesAsync(Path("ex16/s1"), P42)).Key;
        foreach (var key in new[] { k, "ex16/s1/unknown" })
        {
            var info = await Cache.Client.GetInfo(Path(key));
            var endpoint = Assert.Single(info.Endpoints);
            Assert.Equal(key, endpoint.Ticket.Ticket.ToStringUtf8());
            Assert.Equal(FlightCache.Advertised, Assert.Single(endpoint.Locations).Uri);
            Assert.Equal([key], info.Descriptor.Paths);
            Assert.Equal(-1, info.TotalRecords);
        }
    }

    [Fact]
    public async Task Delete_BySession_LeavesOtherSessions_AndByApp_RemovesEverythingOfTheApp()
    {
        var k = (await Cache.PutBytesAsync(Path("ex17/s1"), P42)).Key;
        await Cache.PutBytesAsync(Path("ex17/s10/x"), P42);
        await Cache.PutBytesAsync(Path("ex17/pkg/ex17.tar.gz"), P43);

        Assert.Equal(["OK"], await Cache.ActionAsync("DELETE", "ex17/s1"));
        Assert.Equal(StatusCode.NotFound, await FlightCache.CodeOfAsync(() => Cache.RowsAsync($"{k}:0")));
        Assert.Single(await Cache.RowsAsync("ex17/s10/x:0"));
        Assert.Single(await Cache.RowsAsync("ex17/pkg/ex17.tar.gz:0"));

        Assert.Equal(["OK"], await Cache.ActionAsync("DELETE", "ex17/*"));
        Assert.Equal(StatusCode.NotFound, await FlightCache.CodeOfAsync(() => Cache.RowsAsync("ex17/pkg/ex17.tar.gz:0")));
        Assert.Equal(StatusCode.NotFound, await FlightCache.CodeOfAsync(() => Cache.RowsAsync("ex17/s10/x:0")));
        Assert.Equal(1, (await Cache.PutBytesAsync(Path(k), P42)).Version);
        // Idempotent: nothing matched is still OK.
        Assert.Equal(["OK"], await Cache.ActionAsync("DELETE", "ex17/nothing/here"));
    }

    [Fact]
    public async Task EveryErrorOfTheSpec_HasItsStatusCode()
    {
        var k = (await Cache.PutBytesAsync(Path("ex19/s1"), P42)).Key;
        Assert.Equal(StatusCode.NotFound, await FlightCache.CodeOfAsync(() => Cache.RowsAsync("ex19/s1/none:0")));
        Assert.Equal(StatusCode.NotFound, await FlightCache.CodeOfAsync(() => Cache.PutBytesAsync(FlightDescriptor.CreateCommandDescriptor("PATCH:ex19/s1/none"), P42)));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.RowsAsync("ex19/s1:0")));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.RowsAsync($"{k}:x")));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.ActionAsync("FOO", "ex19/s1")));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.ActionAsync("DELETE", "ex19")));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.ActionAsync("DELETE", "ex19/*/x")));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.PutBytesAsync(Path("ex19"), P42)));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.PutBytesAsync(Path("ex19/s1/a:b"), P42)));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.PutBytesAsync(FlightDescriptor.CreateCommandDescriptor("PUT:" + k), P42)));
        Assert.Equal(StatusCode.InvalidArgument, await FlightCache.CodeOfAsync(() => Cache.PutRefAsync(Path("ex19/s1"), ObjectSchemas.Upload)));
        var wrongTypes = new Schema.Builder().Field(new Field("version", Int64Type.Default, true)).Field(new Field("data", BinaryType.Default, true)).Build();
        Assert.Equal(StatusCode.Internal, await FlightCache.CodeOfAsync(() => Cache.PutRefAsync(Path("ex19/s1"), wrongTypes,
            new RecordBatch(wrongTypes, [new Int64Array.Builder().Append(0).Build(), new BinaryArray.Builder().Append(P42.AsSpan()).Build()], 1))));
        Assert.Equal(StatusCode.Unimplemented, await FlightCache.CodeOfAsync(async () =>
        {
            using var call = Cache.Client.Handshake();
            await call.RequestStream.CompleteAsync();
            await call.ResponseStream.MoveNext(CancellationToken.None);
        }));
    }

    [Fact]
    public async Task ListActions_AnswersOnlyDelete_AndListFlightsNamesEveryKeyWithItsBytes()
    {
        using var actions = Cache.Client.ListActions();
        Assert.True(await actions.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal("DELETE", actions.ResponseStream.Current.Type);
        Assert.Equal("Delete objects by key prefix", actions.ResponseStream.Current.Description);
        Assert.False(await actions.ResponseStream.MoveNext(CancellationToken.None));

        var k = (await Cache.PutBytesAsync(Path("ex20/s1"), P42)).Key;
        using var flights = Cache.Client.ListFlights();
        var found = new List<FlightInfo>();
        while (await flights.ResponseStream.MoveNext(CancellationToken.None))
            found.Add(flights.ResponseStream.Current);
        var mine = Assert.Single(found, f => f.Descriptor.Paths.SequenceEqual([k]));
        Assert.Equal(P42.Length, mine.TotalBytes);
    }

    [Fact]
    public async Task AFiveMebibyteObject_TravelsInOneMessage()
    {
        var data = new byte[5 * 1024 * 1024];
        Random.Shared.NextBytes(data);
        var reference = await Cache.PutBytesAsync(Path("big/s1"), data);
        var (_, _, read) = Assert.Single(await Cache.RowsAsync($"{reference.Key}:0"));
        Assert.Equal(H(data), read);
    }
}
