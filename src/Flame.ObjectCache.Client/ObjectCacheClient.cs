using System.Collections.Concurrent;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.ObjectCache;

/// <summary>An object read from the cache: its base, its patches in order, and the version they make.</summary>
/// <param name="Version">The version the pieces make.</param>
/// <param name="Base">The base bytes.</param>
/// <param name="Patches">The patches after the base, oldest first.</param>
public sealed record CachedObject(long Version, byte[] Base, IReadOnlyList<byte[]> Patches);

/// <summary>What the cache holds under one key, as a full read shows it (for tools: the payload is read and dropped).</summary>
/// <param name="Key">The full key.</param>
/// <param name="Version">The current version (the last patch's, else the base's).</param>
/// <param name="BaseVersion">The base's version.</param>
/// <param name="Patches">The patches after the base.</param>
/// <param name="Native">Whether it is a native Arrow table (<c>flame.cache.format=arrow-table-v1</c>).</param>
/// <param name="Rows">A native table's rows; the rows of the base and patches otherwise.</param>
/// <param name="Metadata">The schema metadata of the read (a native table's <c>flame.cache.*</c> keys; empty otherwise).</param>
public sealed record ObjectDescription(string Key, long Version, long BaseVersion, int Patches, bool Native, long Rows,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// A .NET client of Flame's object cache over Arrow Flight, the counterpart of flamepy's <c>put_object</c>,
/// <c>get_object</c>, <c>update_object</c>, <c>patch_object</c> and <c>delete_objects</c>: new objects go to the configured
/// endpoint, reads and updates of a ref go to <c>ref.Endpoint</c>, and reads are conditional on the version held
/// locally, so an unchanged object is not sent again. Thread-safe; dispose it to close its channels.
/// </summary>
public sealed class ObjectCacheClient : IDisposable
{
    /// <summary>The variable the executor manager sets for services: the cache's endpoint.</summary>
    public const string EndpointVariable = "FLAME_CACHE_ENDPOINT";

    /// <summary>The endpoint Flame's clients use when nothing is configured.</summary>
    public const string DefaultEndpoint = "grpc://127.0.0.1:9090";

    private readonly string _endpoint;
    private readonly Func<string, GrpcChannel> _dial;
    private readonly ConcurrentDictionary<string, (GrpcChannel Channel, FlightClient Client)> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Endpoint, string Key), CachedObject> _local = new();

    /// <summary>A client whose new objects go to <paramref name="endpoint"/> (<c>grpc://</c>, <c>grpc+tcp://</c>, <c>grpc+tls://</c>, <c>grpcs://</c>).</summary>
    /// <param name="endpoint">The cache to put new objects to.</param>
    /// <param name="httpHandler">The HTTP handler of every channel (e.g. one that trusts a private CA); default: the system's.</param>
    public ObjectCacheClient(string endpoint, HttpMessageHandler? httpHandler = null)
    {
        _endpoint = endpoint;
        _dial = target => GrpcChannel.ForAddress(ToHttp(target), new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            HttpHandler = httpHandler,
            DisposeHttpClient = httpHandler is null,
        });
    }

    /// <summary>A client for <c>FLAME_CACHE_ENDPOINT</c>, else <see cref="DefaultEndpoint"/>: what a service uses.</summary>
    public static ObjectCacheClient FromEnvironment() =>
        new(Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } endpoint ? endpoint : DefaultEndpoint);

    /// <summary>Puts a new object under <paramref name="keyOrPrefix"/> (<c>app/session</c>: the server picks the id); its ref.</summary>
    /// <exception cref="RpcException">The cache refused it (a malformed key is <c>InvalidArgument</c>).</exception>
    public Task<ObjectRef> PutObjectAsync(string keyOrPrefix, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteAsync(_endpoint, FlightDescriptor.CreatePathDescriptor(keyOrPrefix), data, cancellationToken);

    /// <summary>Replaces the object <paramref name="reference"/> names; the ref of the new version.</summary>
    public async Task<ObjectRef> UpdateObjectAsync(ObjectRef reference, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        _local.TryRemove((reference.Endpoint, reference.Key), out _);
        return await WriteAsync(reference.Endpoint, FlightDescriptor.CreatePathDescriptor(reference.Key), data, cancellationToken);
    }

    /// <summary>Appends a patch to the object <paramref name="reference"/> names; the ref of the new version.</summary>
    /// <exception cref="RpcException"><c>NotFound</c> when there is no such object.</exception>
    public async Task<ObjectRef> PatchObjectAsync(ObjectRef reference, ReadOnlyMemory<byte> patch, CancellationToken cancellationToken = default)
    {
        _local.TryRemove((reference.Endpoint, reference.Key), out _);
        return await WriteAsync(reference.Endpoint, FlightDescriptor.CreateCommandDescriptor("PATCH:" + reference.Key), patch, cancellationToken);
    }

    /// <summary>
    /// The object <paramref name="reference"/> names, read as flamepy reads it: conditional on the version held here,
    /// so that an unchanged object costs one empty answer and a patched one only its new patches.
    /// </summary>
    /// <exception cref="RpcException"><c>NotFound</c> when there is no such object.</exception>
    public async Task<CachedObject> GetObjectAsync(ObjectRef reference, CancellationToken cancellationToken = default)
    {
        var at = (reference.Endpoint, reference.Key);
        var held = reference.Version == 0 ? null : _local.GetValueOrDefault(at);
        var rows = await ReadAsync(reference, held?.Version ?? 0, cancellationToken);
        CachedObject result;
        if (rows.Count == 0)
        {
            result = held ?? throw new RpcException(new Status(StatusCode.NotFound, $"object {reference.Key} not found"));
        }
        else if (rows[0].Kind == ObjectSchemas.BaseKind)
        {
            result = new CachedObject(rows[^1].Version, rows[0].Data, [.. rows.Skip(1).Select(r => r.Data)]);
        }
        else if (held is not null)
        {
            result = new CachedObject(rows[^1].Version, held.Base, [.. held.Patches, .. rows.Select(r => r.Data)]);
        }
        else
        {
            return await GetObjectAsync(reference with { Version = 0 }, cancellationToken);
        }
        _local[at] = result;
        return result;
    }

    /// <summary>Deletes <c>app/session/id</c>, every object of <c>app/session</c>, or of <c>app/*</c>.</summary>
    public async Task DeleteObjectsAsync(string target, CancellationToken cancellationToken = default)
    {
        using var call = Client(_endpoint).DoAction(new FlightAction("DELETE", target), null, null, cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
        }
        var prefix = target.EndsWith("/*", StringComparison.Ordinal) ? target[..^1] : target;
        foreach (var key in _local.Keys.Where(k => k.Key == target || k.Key.StartsWith(prefix + (prefix.EndsWith('/') ? "" : "/"), StringComparison.Ordinal)))
            _local.TryRemove(key, out _);
    }

    /// <summary>Every object the cache holds: key and payload bytes.</summary>
    public async Task<IReadOnlyList<(string Key, long Bytes)>> ListObjectsAsync(CancellationToken cancellationToken = default)
    {
        using var call = Client(_endpoint).ListFlights(null, null, null, cancellationToken);
        var found = new List<(string, long)>();
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var info = call.ResponseStream.Current;
            found.Add((info.Endpoints.FirstOrDefault()?.Ticket.Ticket.ToStringUtf8() ?? string.Join('/', info.Descriptor.Paths), info.TotalBytes));
        }
        return found;
    }

    /// <summary>The version, patches and metadata of <paramref name="key"/>, from a full read (<c>key:0</c>).</summary>
    /// <exception cref="RpcException"><c>NotFound</c> when there is no such object; <c>InvalidArgument</c> for a malformed key.</exception>
    public async Task<ObjectDescription> DescribeObjectAsync(string key, CancellationToken cancellationToken = default)
    {
        using var call = Client(_endpoint).GetStream(new FlightTicket($"{key}:0"), null, null, cancellationToken);
        var schema = await call.ResponseStream.Schema;
        var native = ObjectSchemas.IsNative(schema);
        var metadata = schema.Metadata ?? new Dictionary<string, string>();
        long version = 0, baseVersion = 0, rows = 0;
        var patches = 0;
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var batch = call.ResponseStream.Current;
            rows += batch.Length;
            if (native)
                continue;
            var versions = (UInt64Array)batch.Column(0);
            var kinds = (StringArray)batch.Column(1);
            for (var i = 0; i < batch.Length; i++)
            {
                version = (long)versions.GetValue(i)!.Value;
                if (kinds.GetString(i) == ObjectSchemas.BaseKind)
                    baseVersion = version;
                else
                    patches++;
            }
        }
        if (native)
            version = baseVersion = long.TryParse(metadata.GetValueOrDefault(ObjectSchemas.VersionKey), out var v) ? v : 0;
        return new ObjectDescription(key, version, baseVersion, patches, native, rows, metadata);
    }

    private async Task<ObjectRef> WriteAsync(string endpoint, FlightDescriptor descriptor, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var call = await Client(endpoint).StartPut(descriptor, ObjectSchemas.Upload, null, null, cancellationToken);
        await call.RequestStream.WriteAsync(ObjectSchemas.UploadBatch(data));
        await call.RequestStream.CompleteAsync();
        ObjectRef? reference = null;
        while (await call.ResponseStream.MoveNext(cancellationToken))
            reference ??= ObjectRef.FromBson(call.ResponseStream.Current.ApplicationMetadata.Span);
        return reference ?? throw new RpcException(new Status(StatusCode.Internal, "No result metadata: the cache answered the put without a ref"));
    }

    private async Task<List<(long Version, string Kind, byte[] Data)>> ReadAsync(ObjectRef reference, long version, CancellationToken cancellationToken)
    {
        using var call = Client(reference.Endpoint).GetStream(new FlightTicket($"{reference.Key}:{version}"), null, null, cancellationToken);
        var rows = new List<(long, string, byte[])>();
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var batch = call.ResponseStream.Current;
            if (batch.ColumnCount < 3)
                throw new RpcException(new Status(StatusCode.Internal, $"object {reference.Key} is a native Arrow table; read it with an Arrow Flight client"));
            var versions = (UInt64Array)batch.Column(0);
            var kinds = (StringArray)batch.Column(1);
            var data = (BinaryArray)batch.Column(2);
            for (var i = 0; i < batch.Length; i++)
                rows.Add(((long)versions.GetValue(i)!.Value, kinds.GetString(i), data.GetBytes(i).ToArray()));
        }
        return rows;
    }

    private FlightClient Client(string endpoint) => _clients.GetOrAdd(endpoint, e =>
    {
        var channel = _dial(e);
        return (channel, new FlightClient(channel));
    }).Client;

    /// <summary>pyarrow's schemes as the HTTP/2 addresses gRPC dials.</summary>
    private static string ToHttp(string endpoint)
    {
        var colon = endpoint.IndexOf("://", StringComparison.Ordinal);
        if (colon < 0)
            return "http://" + endpoint;
        var scheme = endpoint[..colon];
        var rest = endpoint[(colon + 3)..];
        return scheme switch
        {
            "grpc" or "grpc+tcp" or "http" => "http://" + rest,
            "grpcs" or "grpc+tls" or "https" => "https://" + rest,
            _ => throw new ArgumentException($"'{endpoint}' is not a cache endpoint: use grpc://, grpc+tls:// or grpcs://", nameof(endpoint)),
        };
    }

    /// <summary>Closes every channel.</summary>
    public void Dispose()
    {
        foreach (var (channel, _) in _clients.Values)
            channel.Dispose();
        _clients.Clear();
    }
}
