using System.Runtime.CompilerServices;
using Flame.Channels;
using Flame.Client.Configuration;
using Flame.Wire;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace Flame.Client;

/// <summary>
/// An <see cref="IFlameClient"/> over the <c>flame.v1</c> Frontend gRPC service of a gateway.
/// Plaintext HTTP/2 (h2c) is used for <c>http://</c> endpoints, TLS for <c>https://</c>.
/// </summary>
/// <remarks>
/// A failed call's status is turned into a <see cref="FlameException"/> by <see cref="FlameStatus.FromRpcException"/>;
/// a <c>flame.v1.Result</c> with a non-zero return code (Flame's answer to an application's logical errors) becomes a
/// <see cref="FlameException"/> by <see cref="FlameStatus.FromResult"/>, of the kind the gateway names in its trailer.
/// </remarks>
public sealed class GrpcFlameClient : IFlameClient
{
    /// <summary>The largest message sent or received: 64 MiB, since task inputs, outputs and common data can be several MiB.</summary>
    public const int MaxMessageSize = 64 * 1024 * 1024;

    private readonly GrpcChannel? _ownedChannel;
    private readonly V1.Frontend.FrontendClient _client;
    private readonly V1.FrontendExt.FrontendExtClient _ext;
    // Several gateways: safe calls are sent again and watches resume on another gateway (see GatewayRetry).
    private readonly bool _failover;
    // A gateway answered once: from then on an UNAVAILABLE means one died, and waiting for another is worth it.
    private volatile bool _reached;
    // Several gateways: before one answered, a connect failure tries the next one first.
    private readonly GatewayOrder? _order;

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, e.g. <c>http://127.0.0.1:8080</c> (an endpoint without a scheme
    /// is taken as <c>http://</c>), or to a comma-separated list of gateways with failover (see
    /// <see cref="GrpcFlameClient(FlameConnection)"/>). The channel is owned by this client.
    /// </summary>
    /// <exception cref="ArgumentException">An entry is not an http(s) address.</exception>
    public GrpcFlameClient(string endpoint)
        : this(new FlameConnection(ParseEndpoints(endpoint), null, nameof(endpoint)))
    {
    }

    /// <summary>
    /// Connects to the gateways of <paramref name="connection"/> (see <see cref="FlameClientConfig"/>); the channel is
    /// owned by this client. Every call carries <see cref="FlameConnection.Token"/>, if any, as
    /// <c>authorization: Bearer TOKEN</c>. With several gateways the channel uses the first one that answers and moves to the next
    /// when its connection breaks. Calls that are safe to send twice (reads, OpenSession, CloseSession, and CreateTask /
    /// CreateTasks, which carry an idempotency key) are then sent again on <c>UNAVAILABLE</c> for up to
    /// <see cref="GatewayRetry.Budget"/>, and WatchTask / WatchSession / ListTask resume on another gateway where they left off;
    /// calls that may not be repeated (CreateSession, DeleteSession, application changes) fail with
    /// <see cref="FlameErrorKind.Unavailable"/> and the caller decides.
    /// </summary>
    public GrpcFlameClient(FlameConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _failover = connection.Endpoints.Count > 1;
        _order = _failover ? new GatewayOrder(connection.Endpoints) : null;
        _ownedChannel = CreateChannel(connection, _order);
        _client = new V1.Frontend.FrontendClient(_ownedChannel);
        _ext = new V1.FrontendExt.FrontendExtClient(_ownedChannel);
    }

    /// <summary>
    /// Connects where the client configuration says (<see cref="FlameClientConfig.ResolveConnection"/>):
    /// <c>FLAME_ENDPOINT</c>, else context <paramref name="context"/>, <c>FLAME_CONTEXT</c> or the
    /// <c>current-context</c> of <c>~/.flame/flame.yaml</c> (or <c>FLAME_CONFIG</c>), else <c>http://127.0.0.1:8080</c>.
    /// </summary>
    /// <exception cref="FlameClientConfigurationException">The file is malformed, a value is wrong or the context unknown.</exception>
    public static GrpcFlameClient FromConfiguration(string? context = null) =>
        new(FlameClientConfig.ResolveConnection(endpoints: null, context));

    /// <summary>
    /// Uses an existing channel, which this client does not dispose. Create it with <see cref="CreateChannelOptions"/>
    /// (or equivalent limits) so that large inputs and outputs fit.
    /// </summary>
    public GrpcFlameClient(GrpcChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _client = new V1.Frontend.FrontendClient(channel);
        _ext = new V1.FrontendExt.FrontendExtClient(channel);
    }

    /// <summary>Uses an existing call invoker (e.g. an intercepted channel), which this client does not dispose.</summary>
    public GrpcFlameClient(CallInvoker callInvoker)
    {
        ArgumentNullException.ThrowIfNull(callInvoker);
        _client = new V1.Frontend.FrontendClient(callInvoker);
        _ext = new V1.FrontendExt.FrontendExtClient(callInvoker);
    }

    /// <summary>
    /// Channel options fit for Flame: <see cref="MaxMessageSize"/> both ways, cancellation thrown as
    /// <see cref="OperationCanceledException"/>, and an HTTP handler that opens more HTTP/2 connections
    /// when one is full and keeps idle connections alive.
    /// </summary>
    public static GrpcChannelOptions CreateChannelOptions() => new()
    {
        MaxReceiveMessageSize = MaxMessageSize,
        MaxSendMessageSize = MaxMessageSize,
        ThrowOperationCanceledOnCancellation = true,
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        },
    };

    /// <summary>
    /// A channel to the gateways of <paramref name="connection"/>, with <see cref="CreateChannelOptions"/>: one gateway
    /// as usual; several with <c>pick_first</c> failover and retries of the calls that only read (see
    /// <see cref="GrpcFlameClient(FlameConnection)"/>). With <see cref="FlameConnection.CaFile"/>, https gateways must
    /// present a certificate that this CA signed, for their host name. Every call carries
    /// <see cref="FlameConnection.Token"/>, if any. The caller disposes the channel.
    /// </summary>
    public static GrpcChannel CreateChannel(FlameConnection connection) => CreateChannel(connection, null);

    private static GrpcChannel CreateChannel(FlameConnection connection, GatewayOrder? order)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var options = CreateChannelOptions();
        var handler = (SocketsHttpHandler)options.HttpHandler!;
        if (connection.CaFile is { } caFile && connection.Endpoints[0].Scheme == Uri.UriSchemeHttps)
            handler.SslOptions.RemoteCertificateValidationCallback = GatewayTls.TrustOnly(caFile);
        options.HttpHandler = GatewayChannels.WithToken(connection.Token, handler);
        if (connection.Endpoints.Count > 1)
        {
            // A gateway that does not answer at all must not hold up the move to the next one for long.
            handler.ConnectTimeout = TimeSpan.FromSeconds(5);
            var retry = new MethodConfig { RetryPolicy = GatewayChannels.SafeRetryPolicy(connection.Endpoints.Count) };
            foreach (var (service, method) in SafeToRetry)
                retry.Names.Add(new MethodName { Service = service, Method = method });
            options.ServiceConfig = new ServiceConfig { MethodConfigs = { retry } };
        }
        return GatewayChannels.Create(connection.Endpoints, options, order);
    }

    /// <summary>
    /// The calls that may be sent twice: reads, and OpenSession (which opens an existing session or creates it with
    /// the same spec, so a repeat gives the same answer). Streams are retried only until their first message.
    /// </summary>
    internal static readonly (string Service, string Method)[] SafeToRetry =
    [
        ("flame.v1.Frontend", "GetApplication"), ("flame.v1.Frontend", "ListApplication"),
        ("flame.v1.Frontend", "OpenSession"), ("flame.v1.Frontend", "GetSession"), ("flame.v1.Frontend", "ListSession"),
        ("flame.v1.Frontend", "GetTask"), ("flame.v1.Frontend", "ListTask"), ("flame.v1.Frontend", "WatchTask"),
        ("flame.v1.Frontend", "ListExecutor"), ("flame.v1.Frontend", "ListNodes"), ("flame.v1.Frontend", "GetNode"),
        ("flame.v1.FrontendExt", "WatchSession"), ("flame.v1.FrontendExt", "ListSessions"),
        ("flame.v1.ClusterExt", "GetClusterStatus"),
        ("grpc.health.v1.Health", "Check"),
    ];

    private static IReadOnlyList<Uri> ParseEndpoints(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        return GatewayChannels.TryParseList(endpoint, assumeHttp: true, out var endpoints, out var error)
            ? endpoints
            : throw new ArgumentException(error, nameof(endpoint));
    }

    // ---------------------------------------------------------------- applications

    /// <inheritdoc />
    public async Task RegisterApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new V1.RegisterApplicationRequest { Name = name ?? "", Application = spec.ToWire() };
        await Checked(_client.RegisterApplicationAsync(request, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task UpdateApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new V1.UpdateApplicationRequest { Name = name ?? "", Application = spec.ToWire() };
        await Checked(_client.UpdateApplicationAsync(request, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task UnregisterApplicationAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new V1.UnregisterApplicationRequest { Name = name ?? "" };
        await Checked(_client.UnregisterApplicationAsync(request, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ApplicationInfo> GetApplicationAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new V1.GetApplicationRequest { Name = name ?? "" };
        return (await Safe(ct => Unary(_client.GetApplicationAsync(request, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ApplicationInfo> ListApplicationsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = await Safe(ct => Unary(_client.ListApplicationAsync(new V1.ListApplicationRequest(), cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
        foreach (var app in list.Applications)
            yield return app.ToDomain();
    }

    // ---------------------------------------------------------------- sessions

    /// <inheritdoc />
    public async Task<SessionInfo> CreateSessionAsync(string? sessionId, SessionSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new V1.CreateSessionRequest { SessionId = sessionId ?? "", Session = spec.ToWire() };
        return (await Unary(_client.CreateSessionAsync(request, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> OpenSessionAsync(string sessionId, SessionSpec? spec = null, CancellationToken cancellationToken = default)
    {
        var request = new V1.OpenSessionRequest { SessionId = sessionId ?? "", Session = spec?.ToWire() };
        return (await Safe(ct => Unary(_client.OpenSessionAsync(request, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.CloseSessionRequest { SessionId = sessionId ?? "" };
        // Closing is idempotent: a second close answers the closed session.
        return (await Safe(ct => Unary(_client.CloseSessionAsync(request, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.DeleteSessionRequest { SessionId = sessionId ?? "" };
        return (await Unary(_client.DeleteSessionAsync(request, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.GetSessionRequest { SessionId = sessionId ?? "" };
        return (await Safe(ct => Unary(_client.GetSessionAsync(request, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public IAsyncEnumerable<SessionInfo> ListSessionsAsync(CancellationToken cancellationToken = default) =>
        ListSessionsAsync(new SessionFilter(), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Pages with FrontendExt.ListSessions. A gateway without it (Flame's own, UNIMPLEMENTED) answers the one unary
    /// ListSession, filtered here.
    /// </remarks>
    public async IAsyncEnumerable<SessionInfo> ListSessionsAsync(SessionFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var request = new V1.ListSessionsRequest { PageSize = filter.PageSize, Application = filter.Application ?? "" };
        if (filter.State is { } state)
            request.State = state.ToWire();
        while (true)
        {
            V1.ListSessionsResponse page;
            try
            {
                page = await Safe(ct => _ext.ListSessionsAsync(request, cancellationToken: ct).ResponseAsync, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented && request.PageToken.Length == 0)
            {
                page = null!;
            }
            catch (RpcException ex)
            {
                throw FlameStatus.FromRpcException(ex);
            }
            if (page is null)
            {
                var list = await Safe(ct => Unary(_client.ListSessionAsync(new V1.ListSessionRequest(), cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
                foreach (var session in list.Sessions.Select(s => s.ToDomain()))
                    if ((filter.State is null || session.Status.State == filter.State) && (filter.Application is null || session.Spec.Application == filter.Application))
                        yield return session;
                yield break;
            }
            foreach (var session in page.Sessions)
                yield return session.ToDomain();
            if (page.NextPageToken.Length == 0)
                yield break;
            request.PageToken = page.NextPageToken;
        }
    }

    /// <inheritdoc />
    public async Task<int> PruneSessionsAsync(DateTimeOffset closedBefore, CancellationToken cancellationToken = default)
    {
        var request = new V1.PruneSessionsRequest { ClosedBefore = closedBefore.ToUnixTimeMilliseconds() };
        return (await Unary(_ext.PruneSessionsAsync(request, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false)).Deleted;
    }

    // ---------------------------------------------------------------- tasks

    /// <inheritdoc />
    public async Task<TaskInfo> CreateTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default)
    {
        var request = new V1.CreateTaskRequest { Task = WireMapping.NewTaskSpec(sessionId, input) };
        // The same key on every attempt: the session creates the task once however often the request arrives.
        var key = KeyHeader();
        var task = await Safe(ct => Unary(_client.CreateTaskAsync(request, key, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
        return ToDomain(task);
    }

    /// <inheritdoc />
    public async Task<long> CreateTasksAsync(string sessionId, IReadOnlyList<byte[]?> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var request = new V1.CreateTasksRequest { SessionId = sessionId ?? "" };
        foreach (var input in inputs)
            request.Inputs.Add(input is null ? Google.Protobuf.ByteString.Empty : Google.Protobuf.UnsafeByteOperations.UnsafeWrap(input));
        var key = KeyHeader();
        var response = await Safe(ct => Unary(_ext.CreateTasksAsync(request, key, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
        return response.FirstTaskId;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<IReadOnlyList<TaskInfo>> WatchSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        _failover
            ? ResumingStreams.WatchSessionAsync(ct => WatchSessionOnceAsync(sessionId, ct), ct => ListTasksAsync(sessionId, ct), _reached, cancellationToken)
            : WatchSessionOnceAsync(sessionId, cancellationToken);

    private async IAsyncEnumerable<IReadOnlyList<TaskInfo>> WatchSessionOnceAsync(string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new V1.WatchSessionRequest { SessionId = sessionId ?? "" };
        AsyncServerStreamingCall<V1.TaskBatch> call;
        try
        {
            call = _ext.WatchSession(request, cancellationToken: cancellationToken);
        }
        catch (RpcException ex)
        {
            throw FlameStatus.FromRpcException(ex);
        }
        using (call)
        {
            while (true)
            {
                V1.TaskBatch batch;
                try
                {
                    if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                        yield break;
                    batch = call.ResponseStream.Current;
                }
                catch (RpcException ex)
                {
                    throw FlameStatus.FromRpcException(ex);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw GatewayRetry.Classify(ex, cancellationToken);
                }
                var tasks = new TaskInfo[batch.Tasks.Count];
                for (var i = 0; i < tasks.Length; i++)
                    tasks[i] = ToDomain(batch.Tasks[i]);
                yield return tasks;
            }
        }
    }

    /// <inheritdoc />
    public async Task<TaskInfo> GetTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default)
    {
        var request = new V1.GetTaskRequest { SessionId = sessionId ?? "", TaskId = FlameIds.FormatTaskId(taskId) };
        var task = await Safe(ct => Unary(_client.GetTaskAsync(request, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
        return ToDomain(task);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TaskInfo> WatchTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default)
    {
        var request = new V1.WatchTaskRequest { SessionId = sessionId ?? "", TaskId = FlameIds.FormatTaskId(taskId) };
        return _failover
            ? ResumingStreams.WatchTaskAsync(ct => Stream(c => _client.WatchTask(request, cancellationToken: c), ct), _reached, cancellationToken)
            : Stream(ct => _client.WatchTask(request, cancellationToken: ct), cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TaskInfo> ListTasksAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.ListTaskRequest { SessionId = sessionId ?? "" };
        return _failover
            ? ResumingStreams.ListTasksAsync(ct => Stream(c => _client.ListTask(request, cancellationToken: c), ct), _reached, cancellationToken)
            : Stream(ct => _client.ListTask(request, cancellationToken: ct), cancellationToken);
    }

    /// <inheritdoc />
    public Task<TaskInfo> RunTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default) =>
        TaskRunner.RunAsync(this, sessionId, input, cancellationToken);

    // ---------------------------------------------------------------- cluster

    /// <inheritdoc />
    public async IAsyncEnumerable<ExecutorInfo> ListExecutorsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = await Safe(ct => Unary(_client.ListExecutorAsync(new V1.ListExecutorRequest(), cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
        foreach (var executor in list.Executors)
            yield return executor.ToDomain();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<NodeInfo> ListNodesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = await Safe(ct => Unary(_client.ListNodesAsync(new V1.ListNodesRequest(), cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
        foreach (var node in list.Nodes)
            yield return node.ToDomain();
    }

    /// <inheritdoc />
    public async Task<NodeInfo> GetNodeAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new V1.GetNodeRequest { Name = name ?? "" };
        var response = await Safe(ct => Unary(_client.GetNodeAsync(request, cancellationToken: ct), ct), cancellationToken).ConfigureAwait(false);
        return response.Node?.ToDomain() ?? throw FlameException.NotFound($"node '{name}' not found");
    }

    /// <summary>Disposes the channel if this client created it.</summary>
    public ValueTask DisposeAsync()
    {
        _ownedChannel?.Dispose();
        return ValueTask.CompletedTask;
    }

    // ---------------------------------------------------------------- plumbing

    /// <summary>A call that is safe to send again: with several gateways, sent again through another on UNAVAILABLE.</summary>
    private Task<T> Safe<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _failover ? GatewayRetry.RunAsync(call, () => _reached, _order!.MoveOn, cancellationToken) : call(cancellationToken);

    /// <summary>A new idempotency key for one create (sent with each of its attempts).</summary>
    private static Metadata KeyHeader() => new() { { IdempotencyKey.Header, IdempotencyKey.New() } };

    private async Task<T> Unary<T>(AsyncUnaryCall<T> call, CancellationToken cancellationToken)
    {
        using (call)
        {
            try
            {
                var response = await call.ResponseAsync.ConfigureAwait(false);
                _reached = true;
                return response;
            }
            catch (RpcException ex)
            {
                throw FlameStatus.FromRpcException(ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw GatewayRetry.Classify(ex, cancellationToken);
            }
        }
    }

    private static async IAsyncEnumerable<TaskInfo> Stream(
        Func<CancellationToken, AsyncServerStreamingCall<V1.Task>> start,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        AsyncServerStreamingCall<V1.Task> call;
        try
        {
            call = start(cancellationToken);
        }
        catch (RpcException ex)
        {
            throw FlameStatus.FromRpcException(ex);
        }

        // Disposing the call cancels it on the server when the caller stops early.
        using (call)
        {
            var stream = call.ResponseStream;
            while (true)
            {
                TaskInfo item;
                try
                {
                    if (!await stream.MoveNext(cancellationToken).ConfigureAwait(false))
                        yield break;
                    item = ToDomain(stream.Current);
                }
                catch (RpcException ex)
                {
                    throw FlameStatus.FromRpcException(ex);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw GatewayRetry.Classify(ex, cancellationToken);
                }
                yield return item;
            }
        }
    }

    private static TaskInfo ToDomain(V1.Task task)
    {
        try
        {
            return task.ToDomain();
        }
        catch (FlameException ex)
        {
            // A malformed id from the server is the server's fault, not the caller's argument.
            throw new FlameException(FlameErrorKind.Internal, $"the server sent a malformed task: {ex.Message}");
        }
    }

    /// <summary>A call answered by a <c>flame.v1.Result</c>: a non-zero return code throws, with the kind its trailer names.</summary>
    private async Task Checked(AsyncUnaryCall<V1.Result> call, CancellationToken cancellationToken)
    {
        using (call)
        {
            V1.Result result;
            try
            {
                result = await call.ResponseAsync.ConfigureAwait(false);
                _reached = true;
            }
            catch (RpcException ex)
            {
                throw FlameStatus.FromRpcException(ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw GatewayRetry.Classify(ex, cancellationToken);
            }
            if (result.ReturnCode != 0)
                throw FlameStatus.FromResult(result, call.GetTrailers());
        }
    }
}
