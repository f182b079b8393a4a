using Flame.SessionManager.Tests.Support;
using Flame.Testing;
using Grpc.Core;
using GrpcChannel = global::Grpc.Net.Client.GrpcChannel;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// What a task result or a failed binding does to a session, seen from outside: a gateway of its own (with the options
/// under test) and a stand-in executor manager that speaks only the flame.v1 Backend, as Flame's does.
/// </summary>
public sealed class FailureSemanticsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false, false, TaskState.Failed)] // Flame: the service's error fails the task at once
    [InlineData(false, true, TaskState.Pending)] // a failure of the system gets another attempt
    [InlineData(true, false, TaskState.Pending)] // Flame:Execution:RetryApplicationErrors retries the service's error too
    public async Task ATaskResultWithAnError_FailsTheTaskAtOnce_UnlessItIsASystemFailureOrRetriesAreAsked(
        bool retryApplicationErrors, bool systemFailure, TaskState expected)
    {
        await using var cluster = await StandInCluster.StartAsync(new()
        {
            ["Flame:Execution:RetryApplicationErrors"] = retryApplicationErrors ? "true" : "false",
        });
        var (sessionId, executorId) = await cluster.BoundSessionAsync(tasks: 1);
        var task = (await cluster.Backend.LaunchTaskAsync(new LaunchTaskRequest { ExecutorId = executorId })).Task;

        await cluster.Backend.CompleteTaskAsync(new CompleteTaskRequest
        {
            ExecutorId = executorId,
            TaskResult = new TaskResult { ReturnCode = -1, Message = "ValueError: bad input", SystemFailure = systemFailure },
        });

        var after = await cluster.Frontend.GetTaskAsync(new GetTaskRequest { SessionId = sessionId, TaskId = task.Metadata.Id });
        Assert.Equal(expected, after.Status.State);
        var last = after.Status.Events[^1];
        if (expected == TaskState.Failed)
            Assert.Equal(("ValueError: bad input", 3), (last.Message, last.Code)); // verbatim, as Flame's event 3
        else
            Assert.Equal(("attempt 1 of 3 failed: ValueError: bad input; retrying", 0), (last.Message, last.Code));
    }

    [Theory]
    [InlineData(false, TaskState.Pending)] // Flame: the session is paused, its tasks wait
    [InlineData(true, TaskState.Failed)] // Flame:Execution:FailPendingTasksAtBindingLimit
    public async Task ReachingTheBindingLimit_IsEvent1002_AndPausesTheSession_UnlessPendingTasksAreToFail(bool failPending, TaskState expected)
    {
        await using var cluster = await StandInCluster.StartAsync(new()
        {
            ["Flame:Execution:MaxBindingFailures"] = "1",
            ["Flame:Execution:FailPendingTasksAtBindingLimit"] = failPending ? "true" : "false",
        });
        var (sessionId, executorId) = await cluster.BindingSessionAsync(tasks: 2);

        await cluster.Backend.BindExecutorCompletedAsync(new BindExecutorCompletedRequest
        {
            ExecutorId = executorId,
            Result = new Result { ReturnCode = 11, Message = "shim creation failed: failed to start service by command <>: no such file" },
        });

        var session = await cluster.Frontend.GetSessionAsync(new GetSessionRequest { SessionId = sessionId });
        var events = session.Status.Events.Where(e => e.Code >= 1000).ToList();
        Assert.Equal(2, events.Count);
        Assert.Equal(1001, events[0].Code);
        Assert.Equal($"Executor <{executorId}> on node <{cluster.NodeName}> failed to bind session with return_code <11>: "
            + "shim creation failed: failed to start service by command <>: no such file", events[0].Message);
        Assert.Equal(1002, events[1].Code);
        Assert.StartsWith("Session retry limit reached after 1/1 failed attempts; ", events[1].Message);
        Assert.Equal(expected == TaskState.Pending ? 2 : 0, session.Status.Pending);
        Assert.Equal(expected == TaskState.Failed ? 2 : 0, session.Status.Failed);
    }

    /// <summary>A gateway with no executor manager, and one node played by a plain flame.v1 Backend client.</summary>
    private sealed class StandInCluster : IAsyncDisposable
    {
        private readonly InProcessGateway _gateway;
        private readonly GrpcChannel _channel;
        private readonly AsyncDuplexStreamingCall<WatchNodeRequest, WatchNodeResponse> _watch;

        private StandInCluster(InProcessGateway gateway, GrpcChannel channel, string nodeName,
            AsyncDuplexStreamingCall<WatchNodeRequest, WatchNodeResponse> watch)
        {
            _gateway = gateway;
            _channel = channel;
            NodeName = nodeName;
            _watch = watch;
            Frontend = new Frontend.FrontendClient(channel);
            Backend = new Backend.BackendClient(channel);
        }

        public string NodeName { get; }

        public Frontend.FrontendClient Frontend { get; }

        public Backend.BackendClient Backend { get; }

        public static async Task<StandInCluster> StartAsync(Dictionary<string, string?> settings)
        {
            // A test lasts seconds: one heartbeat keeps the node Ready throughout.
            settings["Flame:Execution:NodeHeartbeatTimeoutSeconds"] = "120";
            var gateway = await InProcessGateway.StartAsync(settings);
            var channel = GrpcChannel.ForAddress(gateway.Endpoint);
            var backend = new Backend.BackendClient(channel);
            var name = Names.Unique("standin");
            var resources = new ResourceRequirement { Cpu = 1, Memory = 4UL << 30 };
            var status = new NodeStatus { State = NodeState.Ready, Capacity = resources, Allocatable = resources };
            await backend.RegisterNodeAsync(new RegisterNodeRequest
            {
                Node = new Node { Metadata = new Metadata { Id = name, Name = name }, Spec = new NodeSpec { Hostname = name }, Status = status },
            });
            var watch = backend.WatchNode();
            await watch.RequestStream.WriteAsync(new WatchNodeRequest { Heartbeat = new NodeHeartbeat { NodeName = name, Status = status } });
            return new StandInCluster(gateway, channel, name, watch);
        }

        /// <summary>A session of a new application with <paramref name="tasks"/> tasks, and the executor bound to it.</summary>
        public async Task<(string SessionId, string ExecutorId)> BoundSessionAsync(int tasks)
        {
            var (sessionId, executorId) = await BindingSessionAsync(tasks);
            Assert.Equal(0, (await Backend.BindExecutorCompletedAsync(new BindExecutorCompletedRequest
            {
                ExecutorId = executorId,
                Result = new Result { ReturnCode = 0 },
            })).ReturnCode);
            return (sessionId, executorId);
        }

        /// <summary>As <see cref="BoundSessionAsync"/>, with the executor Binding: it has the session and not answered yet.</summary>
        public async Task<(string SessionId, string ExecutorId)> BindingSessionAsync(int tasks)
        {
            var app = await Frontend.RegisterAppAsync("standin");
            var sessionId = Names.Unique("standin");
            await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = sessionId, Session = new SessionSpec { Application = app } });
            for (var i = 0; i < tasks; i++)
                await Frontend.NewTaskAsync(sessionId);

            // The scheduler asks this node for an executor; the stand-in registers it and takes its session.
            using var cancel = new CancellationTokenSource(Deadline);
            string? executorId = null;
            while (executorId is null && await _watch.ResponseStream.MoveNext(cancel.Token))
                if (_watch.ResponseStream.Current.Executor is { Status.State: ExecutorState.ExecutorVoid } ordered)
                    executorId = ordered.Metadata.Id;
            Assert.NotNull(executorId);
            await Backend.RegisterExecutorAsync(new RegisterExecutorRequest
            {
                ExecutorId = executorId,
                ExecutorSpec = new ExecutorSpec { Node = NodeName, Resreq = new ResourceRequirement { Cpu = 1 } },
            });
            var bind = await Backend.BindExecutorAsync(new BindExecutorRequest { ExecutorId = executorId }, deadline: DateTime.UtcNow + Deadline);
            Assert.Equal(sessionId, bind.Session?.Metadata.Id);
            return (sessionId, executorId);
        }

        public async ValueTask DisposeAsync()
        {
            _watch.Dispose();
            _channel.Dispose();
            await _gateway.DisposeAsync();
        }
    }
}
