using System.Diagnostics;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Flame.V1;

namespace Flame.ExecutorManager.Tests.Support;

/// <summary>One call the node made to the fake gateway.</summary>
public sealed record BackendCall(string Rpc, string? ExecutorId, IMessage Request)
{
    public override string ToString() => ExecutorId is null ? Rpc : $"{Rpc}({ExecutorId})";
}

/// <summary>
/// A scriptable flame.v1 Backend: it records every call, answers heartbeats with acks, and answers the long-polls
/// (BindExecutor, LaunchTask) with whatever the test queues for that executor, waiting until something is queued.
/// </summary>
public sealed class FakeBackend : V1.Backend.BackendBase
{
    private readonly List<BackendCall> _calls = [];
    private readonly Lock _lock = new();
    // A BindExecutorResponse to answer, or an RpcException to fail with.
    private readonly Dictionary<string, Channel<object>> _binds = [];
    // A LaunchTaskResponse to answer, or an RpcException to fail with.
    private readonly Dictionary<string, Channel<object>> _launches = [];
    private readonly Channel<WatchNodeResponse> _toNode = Channel.CreateUnbounded<WatchNodeResponse>();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _currentWatch;

    private int _taskStreams;

    /// <summary>How many BackendExt task streams were opened (served by <see cref="FakeBackendExt"/>).</summary>
    public int TaskStreams => Volatile.Read(ref _taskStreams);

    internal void TaskStreamOpened() => Interlocked.Increment(ref _taskStreams);

    private long _launchNumbers;

    /// <summary>The next launch number given with a task on the stream (1, 2, …).</summary>
    internal ulong NextLaunch() => (ulong)Interlocked.Increment(ref _launchNumbers);

    /// <summary>The launch numbers the completions on the stream came with, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<ulong> CompletionLaunches { get; } = new();

    /// <summary>
    /// Whether the task stream grants task windows, as the real gateway does (ext.proto, CompleteAndLaunchTaskRequest.window):
    /// every answer says so, and windowed requests are served by <see cref="ExchangeWindowAsync"/>.
    /// </summary>
    public bool GrantsWindows { get; init; }

    private int _windowedExchanges;

    /// <summary>How many windowed requests the task stream served.</summary>
    public int WindowedExchanges => Volatile.Read(ref _windowedExchanges);

    /// <summary>The largest window the fake grants, as the real gateway's (BackendService.MaxTaskWindow).</summary>
    public const uint MaxTaskWindow = 64;

    // Per executor: tasks handed in windows and not yet completed or returned, by launch number; and tasks given back,
    // handed again before anything queued.
    private readonly Dictionary<(string Executor, ulong Launch), LaunchTaskResponse> _held = [];
    private readonly Dictionary<string, Queue<LaunchTaskResponse>> _returned = [];

    /// <summary>Task ids whose CompleteTask is refused with FAILED_PRECONDITION, as a late completion is.</summary>
    public HashSet<string> RefusedCompletions { get; } = [];

    public IReadOnlyList<BackendCall> Calls
    {
        get
        {
            lock (_lock)
                return [.. _calls];
        }
    }

    /// <summary>The RPC names called for one executor, in order.</summary>
    public IReadOnlyList<string> CallsFor(string executorId) =>
        [.. Calls.Where(c => c.ExecutorId == executorId).Select(c => c.Rpc)];

    /// <summary>
    /// Asks the node to create an executor (state ExecutorVoid) for <paramref name="resreq"/> (one core by default), as
    /// the gateway does on the watch stream.
    /// </summary>
    public void CreateExecutor(string executorId, string sessionId = "s1", ResourceRequirement? resreq = null) => _toNode.Writer.TryWrite(new WatchNodeResponse
    {
        Executor = new Executor
        {
            Metadata = new V1.Metadata { Id = executorId, Name = executorId },
            Spec = new ExecutorSpec { Resreq = resreq ?? new ResourceRequirement { Cpu = 1 } },
            Status = new ExecutorStatus { State = ExecutorState.ExecutorVoid, SessionId = sessionId },
        },
    });

    /// <summary>Tells the node to release an executor (state ExecutorReleasing).</summary>
    public void ReleaseExecutor(string executorId) => _toNode.Writer.TryWrite(new WatchNodeResponse
    {
        Executor = new Executor
        {
            Metadata = new V1.Metadata { Id = executorId, Name = executorId },
            Status = new ExecutorStatus { State = ExecutorState.ExecutorReleasing },
        },
    });

    /// <summary>
    /// Queues the answer to the executor's next BindExecutor; <paramref name="reuseService"/> lets the executor keep the
    /// service for the next session of its application.
    /// </summary>
    public void Bind(string executorId, Application? application, Session? session, bool reuseService = false)
    {
        var response = new BindExecutorResponse { ReuseService = reuseService };
        if (application is not null)
            response.Application = application;
        if (session is not null)
            response.Session = session;
        Queue(_binds, executorId).Writer.TryWrite(response);
    }

    /// <summary>Queues a failure with <paramref name="code"/> for the executor's next BindExecutor.</summary>
    public void FailBind(string executorId, StatusCode code, string message) =>
        Queue(_binds, executorId).Writer.TryWrite(new RpcException(new Status(code, message)));

    /// <summary>Queues "no work" for the executor's next BindExecutor.</summary>
    public void NoBinding(string executorId) => Bind(executorId, null, null);

    /// <summary>Queues a task (or, with null, "no more tasks") for the executor's next LaunchTask.</summary>
    public void Launch(string executorId, string? taskId, string sessionId = "s1", string? input = null)
    {
        var response = new LaunchTaskResponse();
        if (taskId is not null)
        {
            response.Task = new V1.Task
            {
                Metadata = new V1.Metadata { Id = taskId },
                Spec = new TaskSpec { SessionId = sessionId },
            };
            if (input is not null)
                response.Task.Spec.Input = ByteString.CopyFromUtf8(input);
        }
        Queue(_launches, executorId).Writer.TryWrite(response);
    }

    /// <summary>Queues a failure with <paramref name="code"/> (a gateway fault) for the executor's next LaunchTask.</summary>
    public void FailLaunch(string executorId, StatusCode code) =>
        Queue(_launches, executorId).Writer.TryWrite(new RpcException(new Status(code, "the fake gateway failed this launch")));

    /// <summary>Breaks the current watch stream, as a gateway that goes away does.</summary>
    public void BreakWatch()
    {
        lock (_lock)
            _currentWatch?.Cancel();
    }

    /// <summary>Waits for a call of <paramref name="rpc"/> (for <paramref name="executorId"/>, if given) that matches.</summary>
    public async Task<T> WaitForAsync<T>(string rpc, Func<T, bool>? match = null, string? executorId = null, TimeSpan? timeout = null)
        where T : IMessage
    {
        T? found = default;
        await WaitUntilAsync(calls =>
        {
            foreach (var call in calls)
            {
                if (call.Rpc == rpc && (executorId is null || call.ExecutorId == executorId) && call.Request is T request && (match is null || match(request)))
                {
                    found = request;
                    return true;
                }
            }
            return false;
        }, $"a matching {rpc}{(executorId is null ? "" : $"({executorId})")}", timeout);
        return found!;
    }

    /// <summary>Waits until <paramref name="count"/> calls of <paramref name="rpc"/> have been made.</summary>
    public System.Threading.Tasks.Task WaitForCountAsync(string rpc, int count, string? executorId = null, TimeSpan? timeout = null) =>
        WaitUntilAsync(
            calls => calls.Count(c => c.Rpc == rpc && (executorId is null || c.ExecutorId == executorId)) >= count,
            $"{count} calls of {rpc}{(executorId is null ? "" : $"({executorId})")}", timeout);

    /// <summary>Waits until the calls made so far satisfy <paramref name="condition"/>; fails naming what was expected and seen.</summary>
    public async System.Threading.Tasks.Task WaitUntilAsync(Func<IReadOnlyList<BackendCall>, bool> condition, string expectation, TimeSpan? timeout = null)
    {
        var limit = timeout is { } given ? Wait.Scaled(given) : Wait.Timeout;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            Task changed;
            IReadOnlyList<BackendCall> calls;
            lock (_lock)
            {
                calls = [.. _calls];
                changed = _changed.Task;
            }
            if (condition(calls))
                return;
            var left = limit - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || await System.Threading.Tasks.Task.WhenAny(changed, System.Threading.Tasks.Task.Delay(left)) != changed)
                Assert.Fail($"expected {expectation} within {limit.TotalSeconds:0.#}s; calls seen: {string.Join(", ", calls.Where(c => c.Rpc != "Heartbeat"))}");
        }
    }

    // ------------------------------------------------------------------ the service

    public override Task<Result> RegisterNode(RegisterNodeRequest request, ServerCallContext context) => Ok("RegisterNode", null, request);

    public override Task<Result> ReleaseNode(ReleaseNodeRequest request, ServerCallContext context) => Ok("ReleaseNode", null, request);

    public override async System.Threading.Tasks.Task WatchNode(
        IAsyncStreamReader<WatchNodeRequest> requestStream, IServerStreamWriter<WatchNodeResponse> responseStream, ServerCallContext context)
    {
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        lock (_lock)
            _currentWatch = watch;
        Record("WatchNode", null, new WatchNodeRequest());
        var write = new SemaphoreSlim(1, 1);
        async System.Threading.Tasks.Task WriteAsync(WatchNodeResponse response)
        {
            await write.WaitAsync(watch.Token);
            try
            {
                await responseStream.WriteAsync(response, watch.Token);
            }
            finally
            {
                write.Release();
            }
        }

        var pushes = System.Threading.Tasks.Task.Run(async () =>
        {
            while (await _toNode.Reader.WaitToReadAsync(watch.Token))
            {
                if (_toNode.Reader.TryRead(out var response))
                    await WriteAsync(response);
            }
        });
        try
        {
            await foreach (var request in requestStream.ReadAllAsync(watch.Token))
            {
                Record("Heartbeat", null, request);
                await WriteAsync(new WatchNodeResponse { Ack = new Acknowledgement { Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() } });
            }
        }
        catch (OperationCanceledException) when (watch.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the fake gateway broke the watch"));
        }
        finally
        {
            await watch.CancelAsync();
            try
            {
                await pushes;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public override Task<Result> RegisterExecutor(RegisterExecutorRequest request, ServerCallContext context) =>
        Ok("RegisterExecutor", request.ExecutorId, request);

    public override Task<Result> UnregisterExecutor(UnregisterExecutorRequest request, ServerCallContext context) =>
        Ok("UnregisterExecutor", request.ExecutorId, request);

    public override async Task<BindExecutorResponse> BindExecutor(BindExecutorRequest request, ServerCallContext context)
    {
        Record("BindExecutor", request.ExecutorId, request);
        var answer = await Queue(_binds, request.ExecutorId).Reader.ReadAsync(context.CancellationToken);
        return answer as BindExecutorResponse ?? throw (RpcException)answer;
    }

    public override Task<Result> BindExecutorCompleted(BindExecutorCompletedRequest request, ServerCallContext context) =>
        Ok("BindExecutorCompleted", request.ExecutorId, request);

    public override Task<Result> UnbindExecutor(UnbindExecutorRequest request, ServerCallContext context) =>
        Ok("UnbindExecutor", request.ExecutorId, request);

    public override Task<Result> UnbindExecutorCompleted(UnbindExecutorCompletedRequest request, ServerCallContext context) =>
        Ok("UnbindExecutorCompleted", request.ExecutorId, request);

    public override async Task<LaunchTaskResponse> LaunchTask(LaunchTaskRequest request, ServerCallContext context)
    {
        Record("LaunchTask", request.ExecutorId, request);
        var answer = await Queue(_launches, request.ExecutorId).Reader.ReadAsync(context.CancellationToken);
        return answer as LaunchTaskResponse ?? throw (RpcException)answer;
    }

    public override Task<Result> CompleteTask(CompleteTaskRequest request, ServerCallContext context)
    {
        Record("CompleteTask", request.ExecutorId, request);
        lock (_lock)
        {
            // The fake tells completions apart by their output: tests that refuse one give its task an output
            // equal to the task id (echo:ID).
            if (RefusedCompletions.Contains(request.TaskResult.Output.ToStringUtf8()))
                throw new RpcException(new Status(StatusCode.FailedPrecondition, "the task is not running on this executor"));
        }
        return System.Threading.Tasks.Task.FromResult(new Result());
    }

    /// <summary>
    /// A windowed request on the task stream, served as the real gateway serves it: each result is recorded as a
    /// CompleteTask (with its launch), each returned launch goes back to be handed again first (recorded as ReturnTask),
    /// and up to <c>window - holding</c> tasks are handed. A request that holds nothing asks like LaunchTask (recorded
    /// so) and waits for a task if none is queued ("no more tasks" then ends the binding); one that holds tasks is
    /// answered at once with what is queued, and is not recorded. A leaving executor is handed nothing.
    /// </summary>
    internal async Task<TaskLaunch> ExchangeWindowAsync(CompleteAndLaunchTaskRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref _windowedExchanges);
        var executor = request.ExecutorId;
        if (request.TaskResult is not null)
            Completed(executor, request.TaskResult, request.Launch);
        foreach (var done in request.MoreResults)
            Completed(executor, done.TaskResult, done.Launch);
        foreach (var launch in request.Returned)
        {
            Record("ReturnTask", executor, new CompleteAndLaunchTaskRequest { ExecutorId = executor, Launch = launch });
            lock (_lock)
            {
                if (_held.Remove((executor, launch), out var task))
                    Returned(executor).Enqueue(task);
            }
        }
        var answer = new TaskLaunch();
        if (request.Leaving)
            return answer;
        var room = (int)Math.Max(1, Math.Min(request.Window, MaxTaskWindow)) - (int)request.Holding;
        if (room <= 0)
            return answer;
        if (request.Holding == 0)
        {
            // Nothing held: it asks for work as LaunchTask does, and waits if there is none yet.
            Record("LaunchTask", executor, new LaunchTaskRequest { ExecutorId = executor });
            if (TryTakeTask(executor, out var ready))
            {
                Hand(executor, ready!, answer);
            }
            else
            {
                var next = await Queue(_launches, executor).Reader.ReadAsync(context.CancellationToken);
                if (next is RpcException failure)
                    throw failure;
                if (((LaunchTaskResponse)next).Task is null)
                    return answer; // no more work: unbind
                Hand(executor, (LaunchTaskResponse)next, answer);
            }
            room--;
        }
        while (room > 0 && TryTakeTask(executor, out var task))
        {
            Hand(executor, task!, answer);
            room--;
        }
        return answer;
    }

    /// <summary>
    /// Takes the next task to hand without waiting: one given back, else one queued; never "no more tasks" or a
    /// failure, which stay queued for a request that waits.
    /// </summary>
    private bool TryTakeTask(string executor, out LaunchTaskResponse? task)
    {
        task = null;
        lock (_lock)
        {
            if (Returned(executor).TryDequeue(out task))
                return true;
        }
        var queue = Queue(_launches, executor).Reader;
        if (queue.TryPeek(out var next) && next is LaunchTaskResponse { Task: not null } && queue.TryRead(out next))
        {
            task = (LaunchTaskResponse)next;
            return true;
        }
        return false;
    }

    private void Hand(string executor, LaunchTaskResponse task, TaskLaunch answer)
    {
        var launch = NextLaunch();
        lock (_lock)
            _held[(executor, launch)] = task;
        if (answer.Task is null)
        {
            answer.Task = task.Task;
            answer.Launch = launch;
        }
        else
        {
            answer.More.Add(new TaskLaunch { Task = task.Task, Launch = launch });
        }
    }

    private void Completed(string executor, TaskResult result, ulong launch)
    {
        CompletionLaunches.Enqueue(launch);
        Record("CompleteTask", executor, new CompleteTaskRequest { ExecutorId = executor, TaskResult = result });
        lock (_lock)
            _held.Remove((executor, launch)); // a result for a launch not held is skipped, as the gateway skips it
    }

    private Queue<LaunchTaskResponse> Returned(string executor)
    {
        if (!_returned.TryGetValue(executor, out var queue))
            _returned[executor] = queue = new Queue<LaunchTaskResponse>();
        return queue;
    }

    private Task<Result> Ok(string rpc, string? executorId, IMessage request)
    {
        Record(rpc, executorId, request);
        return System.Threading.Tasks.Task.FromResult(new Result());
    }

    private void Record(string rpc, string? executorId, IMessage request)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _calls.Add(new BackendCall(rpc, executorId, request));
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    private Channel<T> Queue<T>(Dictionary<string, Channel<T>> queues, string executorId)
    {
        lock (_lock)
        {
            if (!queues.TryGetValue(executorId, out var queue))
                queues[executorId] = queue = Channel.CreateUnbounded<T>();
            return queue;
        }
    }
}
