using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Flame.ObjectCache.Grains;
using Flame.ObjectCache.Storage;
using Google.Protobuf;
using Grpc.Core;
using static Flame.ObjectCache.Flight.ObjectPayloads;

namespace Flame.ObjectCache.Flight;

/// <summary>
/// Flame's object cache as an Arrow Flight service (flame-object-cache §5): DoPut (put, update, patch), DoGet
/// (versioned reads), DoAction <c>DELETE</c>, GetFlightInfo, ListActions, ListFlights, GetSchema. Each object is one
/// <see cref="IObjectGrain"/>; this class only maps the wire to grain calls and back.
/// </summary>
public sealed partial class ObjectCacheFlightServer(IGrainFactory grains, IObjectStore store, CacheEndpoint endpoint, ILogger<ObjectCacheFlightServer> logger)
    : FlightServer
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <inheritdoc />
    public override Task DoPut(FlightServerRecordBatchStreamReader requestStream, IAsyncStreamWriter<FlightPutResult> responseStream, ServerCallContext context) =>
        Guard("DoPut", async () =>
        {
            FlightDescriptor descriptor;
            Schema schema;
            var batches = new List<RecordBatch>();
            try
            {
                descriptor = await requestStream.FlightDescriptor;
                schema = await requestStream.Schema;
                while (await requestStream.MoveNext(context.CancellationToken))
                    batches.Add(requestStream.Current);
            }
            catch (Exception ex) when (ex is not (RpcException or OperationCanceledException))
            {
                throw Fail(StatusCode.Internal, $"the put's Arrow stream cannot be decoded: {ex.Message}");
            }
            if (descriptor is null || schema is null)
                throw Fail(StatusCode.InvalidArgument, "No data received: the put carried no descriptor and schema");
            var (key, patch) = PutTarget(descriptor);
            var (data, native) = FromUpload(schema, batches, patch);
            long version;
            if (patch)
            {
                var (outcome, patched) = await grains.GetGrain<IObjectGrain>(key).PatchAsync(data.AsImmutable());
                version = outcome switch
                {
                    PatchOutcome.Patched => patched,
                    PatchOutcome.NotFound => throw Fail(StatusCode.NotFound, $"object {key} not found"),
                    _ => throw Fail(StatusCode.InvalidArgument, $"object {key} holds the most patches allowed already; put it again to fold them"),
                };
            }
            else
            {
                version = await grains.GetGrain<IObjectGrain>(key).PutAsync(data.AsImmutable(), native);
            }
            LogWritten(logger, patch ? "patch" : "put", key, version, data.LongLength);
            await responseStream.WriteAsync(new FlightPutResult(ByteString.CopyFrom(new ObjectRef(endpoint.Advertised, key, version).ToBson())));
        });

    /// <inheritdoc />
    public override Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context) =>
        Guard("DoGet", async () =>
        {
            var (key, known) = ParseTicket(ticket.Ticket);
            var read = await grains.GetGrain<IObjectGrain>(key).ReadAsync(known);
            switch (read.Outcome)
            {
                case ReadOutcome.NotFound:
                    throw Fail(StatusCode.NotFound, $"object {key} not found");
                case ReadOutcome.NotModified:
                    // The plain response schema even for a native object: flamepy tests the native marker before the rows.
                    await responseStream.SetupStream(ObjectSchemas.Response);
                    return;
            }
            var meta = read.Meta!;
            var payload = read.Payload!;
            if (meta.Native)
            {
                var (schema, batches) = Native(meta, payload.Base);
                await responseStream.SetupStream(schema);
                foreach (var batch in batches)
                    await responseStream.WriteAsync(batch);
                return;
            }
            await responseStream.SetupStream(ObjectSchemas.Response);
            if (read.Outcome == ReadOutcome.Full)
                await responseStream.WriteAsync(Row(meta.BaseVersion, ObjectSchemas.BaseKind, payload.Base));
            for (var i = read.FirstPatch; i < payload.Patches.Count; i++)
                await responseStream.WriteAsync(Row(meta.BaseVersion + 1 + i, ObjectSchemas.PatchKind, payload.Patches[i]));
        });

    /// <inheritdoc />
    public override Task DoAction(FlightAction request, IAsyncStreamWriter<FlightResult> responseStream, ServerCallContext context) =>
        Guard("DoAction", async () =>
        {
            if (request.Type != "DELETE")
                throw Fail(StatusCode.InvalidArgument, $"Only DELETE is supported, not '{request.Type}'");
            var body = Utf8(request.Body, "DELETE body");
            var target = ObjectKeys.DeleteTarget(body)
                ?? throw Fail(StatusCode.InvalidArgument, $"DELETE body '{body}' is not app/session/id, app/session or app/*");
            var deleted = await DeleteAsync(target, context.CancellationToken);
            LogDeleted(logger, body, deleted);
            await responseStream.WriteAsync(new FlightResult("OK"));
        });

    /// <summary>Deletes the object <paramref name="target"/>, or every object under it when it ends with <c>/</c>; how many.</summary>
    public Task<int> DeleteAsync(string target, CancellationToken cancellationToken) =>
        ObjectDeletion.DeleteAsync(grains, store, target, cancellationToken);

    /// <inheritdoc />
    public override Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context) =>
        Guard("GetFlightInfo", async () =>
        {
            var key = string.Join('/', request.Paths);
            if (key.Length == 0)
                throw Fail(StatusCode.InvalidArgument, "GetFlightInfo needs a path descriptor naming a key");
            Schema? schema = null;
            if (ObjectKeys.Classify(key, forWrite: false) == ObjectKeyKind.Full)
            {
                var read = await grains.GetGrain<IObjectGrain>(key).ReadAsync(0);
                if (read is { Meta.Native: true, Payload: { } payload })
                    schema = NativeSchema(read.Meta, payload.Base);
            }
            return Info(key, schema, -1);
        });

    /// <inheritdoc />
    public override Task ListActions(IAsyncStreamWriter<FlightActionType> responseStream, ServerCallContext context) =>
        responseStream.WriteAsync(new FlightActionType("DELETE", "Delete objects by key prefix"));

    /// <inheritdoc />
    public override Task ListFlights(FlightCriteria request, IAsyncStreamWriter<FlightInfo> responseStream, ServerCallContext context) =>
        Guard("ListFlights", async () =>
        {
            foreach (var meta in await store.ListAsync("", context.CancellationToken))
                await responseStream.WriteAsync(Info(meta.Key, null, meta.Bytes));
        });

    /// <inheritdoc />
    public override Task<Schema> GetSchema(FlightDescriptor request, ServerCallContext context) => Task.FromResult(ObjectSchemas.Response);

    /// <inheritdoc />
    public override Task Handshake(IAsyncStreamReader<FlightHandshakeRequest> requestStream, IAsyncStreamWriter<FlightHandshakeResponse> responseStream, ServerCallContext context) =>
        throw Fail(StatusCode.Unimplemented, "Handshake is not implemented: the object cache needs no authentication");

    /// <inheritdoc />
    public override Task DoExchange(FlightServerRecordBatchStreamReader requestStream, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context) =>
        throw Fail(StatusCode.Unimplemented, "DoExchange is not implemented by the object cache");

    private FlightInfo Info(string key, Schema? schema, long bytes) =>
        new(schema, FlightDescriptor.CreatePathDescriptor(key),
            [new FlightEndpoint(new FlightTicket(key), [new FlightLocation(endpoint.Advertised)])], -1, bytes);

    /// <summary>The key a put names and whether it is a patch; the server picks the id for a prefix.</summary>
    private static (string Key, bool Patch) PutTarget(FlightDescriptor descriptor)
    {
        if (descriptor.Type == FlightDescriptorType.Command)
        {
            var command = Utf8(descriptor.Command, "command");
            if (!command.StartsWith("PATCH:", StringComparison.Ordinal))
                throw Fail(StatusCode.InvalidArgument, $"command '{command}' is not PATCH:<app>/<session>/<id>");
            var patched = command["PATCH:".Length..];
            if (ObjectKeys.Classify(patched) != ObjectKeyKind.Full)
                throw Fail(StatusCode.InvalidArgument, $"PATCH key '{patched}' is not <app>/<session>/<id>");
            return (patched, true);
        }
        var key = descriptor.Paths.FirstOrDefault()
            ?? throw Fail(StatusCode.InvalidArgument, "the put's path descriptor names no key");
        return ObjectKeys.Classify(key) switch
        {
            ObjectKeyKind.Full => (key, false),
            ObjectKeyKind.Prefix => ($"{key}/{Guid.NewGuid():D}", false),
            _ => throw Fail(StatusCode.InvalidArgument, $"key '{key}' is not <app>/<session> or <app>/<session>/<id> (no empty component, '..', '\\', '*' or ':')"),
        };
    }

    /// <summary>A ticket <c>key:version</c> (no <c>:</c> means version 0).</summary>
    private static (string Key, long Known) ParseTicket(ByteString ticket)
    {
        var text = Utf8(ticket, "ticket");
        var colon = text.IndexOf(':');
        var key = colon < 0 ? text : text[..colon];
        var known = 0UL;
        if (colon >= 0 && !ulong.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out known))
            throw Fail(StatusCode.InvalidArgument, $"ticket '{text}': the version after ':' is not a number");
        var parts = key.Split('/');
        if (parts.Length != 3 || !parts.All(ObjectKeys.IsValidComponent))
            throw Fail(StatusCode.InvalidArgument, $"ticket '{text}': '{key}' is not <app>/<session>/<id>");
        return (key, known > long.MaxValue ? long.MaxValue : (long)known);
    }

    private static string Utf8(ByteString bytes, string what)
    {
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw Fail(StatusCode.InvalidArgument, $"the {what} is not UTF-8");
        }
    }

    /// <summary>Statuses pass; anything else (the store, a grain) is <c>INTERNAL</c> with its message, and logged.</summary>
    private async Task Guard(string call, Func<Task> work)
    {
        try
        {
            await work();
        }
        catch (Exception ex) when (ex is not (RpcException or OperationCanceledException))
        {
            LogFailed(logger, ex, call);
            throw Fail(StatusCode.Internal, $"{call} failed: {ex.Message}");
        }
    }

    private async Task<T> Guard<T>(string call, Func<Task<T>> work)
    {
        T result = default!;
        await Guard(call, async () => { result = await work(); });
        return result;
    }
}
