using System.Runtime.CompilerServices;
using Flame.Client.Wire;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.Client;

/// <summary>
/// An <see cref="IFlameClient"/> over the <c>flame.v1</c> Frontend gRPC service of a gateway.
/// Plaintext HTTP/2 (h2c) is used for <c>http://</c> endpoints, TLS for <c>https://</c>.
/// </summary>
/// <remarks>
/// A failed call's status is turned into a <see cref="FlameException"/> by <see cref="FlameStatus.FromRpcException"/>;
/// a <c>flame.v1.Result</c> with a non-zero return code becomes a <see cref="FlameException"/> of kind
/// <see cref="FlameErrorKind.Internal"/> carrying the result's message.
/// </remarks>
public sealed class GrpcFlameClient : IFlameClient
{
    /// <summary>The largest message sent or received: 64 MiB, since task inputs, outputs and common data can be several MiB.</summary>
    public const int MaxMessageSize = 64 * 1024 * 1024;

    private readonly GrpcChannel? _ownedChannel;
    private readonly V1.Frontend.FrontendClient _client;
    private readonly V1.FrontendExt.FrontendExtClient _ext;

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, e.g. <c>http://127.0.0.1:8080</c> (an endpoint without a scheme
    /// is taken as <c>http://</c>). The channel is created with <see cref="CreateChannelOptions"/> and owned by this client.
    /// </summary>
    public GrpcFlameClient(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        _ownedChannel = GrpcChannel.ForAddress(NormalizeEndpoint(endpoint), CreateChannelOptions());
        _client = new V1.Frontend.FrontendClient(_ownedChannel);
        _ext = new V1.FrontendExt.FrontendExtClient(_ownedChannel);
    }

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

    private static string NormalizeEndpoint(string endpoint)
    {
        endpoint = endpoint.Trim();
        return endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint;
    }

    // ---------------------------------------------------------------- applications

    /// <inheritdoc />
    public async Task RegisterApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new V1.RegisterApplicationRequest { Name = name ?? "", Application = spec.ToWire() };
        CheckResult(await Unary(_client.RegisterApplicationAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task UpdateApplicationAsync(string name, ApplicationSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new V1.UpdateApplicationRequest { Name = name ?? "", Application = spec.ToWire() };
        CheckResult(await Unary(_client.UpdateApplicationAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task UnregisterApplicationAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new V1.UnregisterApplicationRequest { Name = name ?? "" };
        CheckResult(await Unary(_client.UnregisterApplicationAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<ApplicationInfo> GetApplicationAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new V1.GetApplicationRequest { Name = name ?? "" };
        return (await Unary(_client.GetApplicationAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ApplicationInfo> ListApplicationsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = await Unary(_client.ListApplicationAsync(new V1.ListApplicationRequest(), cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var app in list.Applications)
            yield return app.ToDomain();
    }

    // ---------------------------------------------------------------- sessions

    /// <inheritdoc />
    public async Task<SessionInfo> CreateSessionAsync(string? sessionId, SessionSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new V1.CreateSessionRequest { SessionId = sessionId ?? "", Session = spec.ToWire() };
        return (await Unary(_client.CreateSessionAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> OpenSessionAsync(string sessionId, SessionSpec? spec = null, CancellationToken cancellationToken = default)
    {
        var request = new V1.OpenSessionRequest { SessionId = sessionId ?? "", Session = spec?.ToWire() };
        return (await Unary(_client.OpenSessionAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.CloseSessionRequest { SessionId = sessionId ?? "" };
        return (await Unary(_client.CloseSessionAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.DeleteSessionRequest { SessionId = sessionId ?? "" };
        return (await Unary(_client.DeleteSessionAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async Task<SessionInfo> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.GetSessionRequest { SessionId = sessionId ?? "" };
        return (await Unary(_client.GetSessionAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToDomain();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SessionInfo> ListSessionsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = await Unary(_client.ListSessionAsync(new V1.ListSessionRequest(), cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var session in list.Sessions)
            yield return session.ToDomain();
    }

    // ---------------------------------------------------------------- tasks

    /// <inheritdoc />
    public async Task<TaskInfo> CreateTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default)
    {
        var request = new V1.CreateTaskRequest { Task = WireMapping.NewTaskSpec(sessionId, input) };
        var task = await Unary(_client.CreateTaskAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return ToDomain(task);
    }

    /// <inheritdoc />
    public async Task<long> CreateTasksAsync(string sessionId, IReadOnlyList<byte[]?> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var request = new V1.CreateTasksRequest { SessionId = sessionId ?? "" };
        foreach (var input in inputs)
            request.Inputs.Add(input is null ? Google.Protobuf.ByteString.Empty : Google.Protobuf.UnsafeByteOperations.UnsafeWrap(input));
        var response = await Unary(_ext.CreateTasksAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.FirstTaskId;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<IReadOnlyList<TaskInfo>> WatchSessionAsync(string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
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
        var task = await Unary(_client.GetTaskAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return ToDomain(task);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TaskInfo> WatchTaskAsync(string sessionId, long taskId, CancellationToken cancellationToken = default)
    {
        var request = new V1.WatchTaskRequest { SessionId = sessionId ?? "", TaskId = FlameIds.FormatTaskId(taskId) };
        return Stream(ct => _client.WatchTask(request, cancellationToken: ct), cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TaskInfo> ListTasksAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var request = new V1.ListTaskRequest { SessionId = sessionId ?? "" };
        return Stream(ct => _client.ListTask(request, cancellationToken: ct), cancellationToken);
    }

    /// <inheritdoc />
    public Task<TaskInfo> RunTaskAsync(string sessionId, byte[]? input, CancellationToken cancellationToken = default) =>
        TaskRunner.RunAsync(this, sessionId, input, cancellationToken);

    // ---------------------------------------------------------------- cluster

    /// <inheritdoc />
    public async IAsyncEnumerable<ExecutorInfo> ListExecutorsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = await Unary(_client.ListExecutorAsync(new V1.ListExecutorRequest(), cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var executor in list.Executors)
            yield return executor.ToDomain();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<NodeInfo> ListNodesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = await Unary(_client.ListNodesAsync(new V1.ListNodesRequest(), cancellationToken: cancellationToken)).ConfigureAwait(false);
        foreach (var node in list.Nodes)
            yield return node.ToDomain();
    }

    /// <inheritdoc />
    public async Task<NodeInfo> GetNodeAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new V1.GetNodeRequest { Name = name ?? "" };
        var response = await Unary(_client.GetNodeAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.Node?.ToDomain() ?? throw FlameException.NotFound($"node '{name}' not found");
    }

    /// <summary>Disposes the channel if this client created it.</summary>
    public ValueTask DisposeAsync()
    {
        _ownedChannel?.Dispose();
        return ValueTask.CompletedTask;
    }

    // ---------------------------------------------------------------- plumbing

    private static async Task<T> Unary<T>(AsyncUnaryCall<T> call)
    {
        using (call)
        {
            try
            {
                return await call.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                throw FlameStatus.FromRpcException(ex);
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

    private static void CheckResult(V1.Result result)
    {
        if (result.ReturnCode != 0)
        {
            var message = result.HasMessage && result.Message.Length > 0
                ? result.Message
                : $"the server returned code {result.ReturnCode}";
            throw new FlameException(FlameErrorKind.Internal, message);
        }
    }
}
