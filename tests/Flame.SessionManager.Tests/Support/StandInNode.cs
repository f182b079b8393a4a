using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.SessionManager.Tests.Support;

using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// A stand-in executor manager that speaks only the standard flame.v1 Backend calls, as Flame's own executor manager
/// does (no extension): it registers a node, heartbeats on WatchNode, and drives the executors it is ordered through
/// the pull loop itself, with no service behind them.
/// </summary>
public sealed class StandInNode : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Backend.BackendClient _backend;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<Executor> _orders = Channel.CreateUnbounded<Executor>();
    private AsyncDuplexStreamingCall<WatchNodeRequest, WatchNodeResponse>? _watch;
    private Task? _loop;

    private StandInNode(string endpoint, string name)
    {
        _channel = GrpcChannel.ForAddress(endpoint);
        _backend = new Backend.BackendClient(_channel);
        Name = name;
    }

    /// <summary>The node's name.</summary>
    public string Name { get; }

    /// <summary>The Backend client, for calls the tests make themselves.</summary>
    public Backend.BackendClient Backend => _backend;

    /// <summary>
    /// Registers node <paramref name="name"/> at <paramref name="endpoint"/> with 4 cpu and 16 GiB, advertising
    /// <paramref name="shims"/> (none: as Flame's executor manager, which names none), and keeps it heartbeating.
    /// </summary>
    public static async Task<StandInNode> StartAsync(string endpoint, string name, params Shim[] shims)
    {
        var node = new StandInNode(endpoint, name);
        var resources = new ResourceRequirement { Cpu = 4, Memory = 16UL << 30 };
        var spec = new NodeSpec { Hostname = name };
        spec.Shims.Add(shims);
        var status = new NodeStatus { State = NodeState.Ready, Capacity = resources, Allocatable = resources };
        var result = await node._backend.RegisterNodeAsync(new RegisterNodeRequest
        {
            Node = new Node { Metadata = new Metadata { Id = name, Name = name }, Spec = spec, Status = status },
        });
        Assert.Equal(0, result.ReturnCode);
        node._watch = node._backend.WatchNode(cancellationToken: node._stop.Token);
        var heartbeat = new WatchNodeRequest { Heartbeat = new NodeHeartbeat { NodeName = name, Status = status } };
        await node._watch.RequestStream.WriteAsync(heartbeat);
        node._loop = Task.WhenAll(node.ReadOrdersAsync(), node.HeartbeatAsync(heartbeat));
        return node;
    }

    /// <summary>The next executor the gateway orders of this node (WatchNode), within <see cref="Wait.Timeout"/>.</summary>
    public Task<Executor> NextOrderAsync(string expected) => Wait.For(_orders.Reader.ReadAsync().AsTask(), expected);

    /// <summary>Whether the gateway has ordered an executor of this node that was not read yet.</summary>
    public bool HasOrders => _orders.Reader.TryPeek(out _);

    /// <summary>
    /// RegisterExecutor, BindExecutor and BindExecutorCompleted (success) for an ordered executor: the binding it got.
    /// </summary>
    public async Task<BindExecutorResponse> BindAsync(Executor order)
    {
        var id = order.Metadata.Id;
        await _backend.RegisterExecutorAsync(new RegisterExecutorRequest
        {
            ExecutorId = id,
            ExecutorSpec = new ExecutorSpec { Node = Name, Resreq = order.Spec.Resreq, Shim = order.Spec.Shim },
        });
        var bind = await Wait.For(_backend.BindExecutorAsync(new BindExecutorRequest { ExecutorId = id }).ResponseAsync,
            $"BindExecutor of executor {id} to answer");
        await _backend.BindExecutorCompletedAsync(new BindExecutorCompletedRequest { ExecutorId = id, Result = new Result { ReturnCode = 0 } });
        return bind;
    }

    /// <summary>LaunchTask, then CompleteTask with <paramref name="output"/> (return code 0): the task it ran.</summary>
    public async Task<V1.Task> RunTaskAsync(string executorId, string output)
    {
        var launched = await Wait.For(_backend.LaunchTaskAsync(new LaunchTaskRequest { ExecutorId = executorId }).ResponseAsync,
            $"LaunchTask of executor {executorId} to answer");
        Assert.NotNull(launched.Task);
        await _backend.CompleteTaskAsync(new CompleteTaskRequest
        {
            ExecutorId = executorId,
            TaskResult = new TaskResult { ReturnCode = 0, Output = ByteString.CopyFromUtf8(output) },
        });
        return launched.Task;
    }

    private async Task ReadOrdersAsync()
    {
        try
        {
            await foreach (var message in _watch!.ResponseStream.ReadAllAsync(_stop.Token))
                if (message.Executor is { } executor && executor.Status?.State == ExecutorState.ExecutorVoid)
                    _orders.Writer.TryWrite(executor);
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is RpcException { StatusCode: StatusCode.Cancelled })
        {
        }
    }

    private async Task HeartbeatAsync(WatchNodeRequest heartbeat)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await _watch!.RequestStream.WriteAsync(heartbeat, _stop.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is RpcException { StatusCode: StatusCode.Cancelled })
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
            await _loop;
        _watch?.Dispose();
        _channel.Dispose();
        _stop.Dispose();
    }
}
