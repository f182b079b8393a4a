using System.Collections.Concurrent;
using Flame.ExecutorManager.Executors;
using Flame.ExecutorManager.Gateway;
using Flame.V1;
using Google.Protobuf;

namespace Flame.ExecutorManager.Tests.Support;

/// <summary>
/// A gateway's side of the task window as pure logic, for <see cref="TaskWindowLoop"/>'s unit tests: it hands
/// <c>window - holding</c> pending tasks per request with fresh launch numbers, records every result against the
/// launch it names, takes returned launches back to the front of the queue, and hands nothing to a leaving executor.
/// </summary>
internal sealed class FakeWindowGateway : IWindowExchange
{
    private readonly Lock _lock = new();
    private readonly LinkedList<(string Id, string Input)> _pending = new();
    private readonly Dictionary<ulong, (string Id, string Input)> _handed = [];
    private ulong _launches;

    public FakeWindowGateway(params (string Id, string Input)[] tasks)
    {
        foreach (var task in tasks)
            _pending.AddLast(task);
    }

    /// <summary>Every request, in order (copies).</summary>
    public List<CompleteAndLaunchTaskRequest> Requests { get; } = [];

    /// <summary>Every result taken, in order: the task, the launch it named, its output.</summary>
    public List<(string TaskId, ulong Launch, string Output)> Results { get; } = [];

    /// <summary>Results for launches not handed (or handed and taken back): a real gateway skips them; none should come.</summary>
    public List<ulong> Stray { get; } = [];

    /// <summary>Fails a request instead of answering it when it returns an exception.</summary>
    public Func<CompleteAndLaunchTaskRequest, Exception?>? Fail { get; set; }

    /// <summary>Wakes waiters after each request.</summary>
    public event Action? Changed;

    /// <summary>The answer to the binding's first, one-task request: one task, and the window the gateway grants.</summary>
    public TaskLaunch First() => Answer(window: 1, holding: 0, leaving: false);

    public Task<TaskLaunch> ExchangeAsync(CompleteAndLaunchTaskRequest request, CancellationToken cancellationToken)
    {
        TaskLaunch answer;
        lock (_lock)
        {
            Requests.Add(request.Clone());
            if (Fail?.Invoke(request) is { } failure)
                return Task.FromException<TaskLaunch>(failure);
            foreach (var done in request.MoreResults)
            {
                if (_handed.Remove(done.Launch, out var task) && task.Id == done.TaskId)
                    Results.Add((done.TaskId, done.Launch, done.TaskResult.Output.ToStringUtf8()));
                else
                    Stray.Add(done.Launch);
            }
            // Back to the front, in their order: they run next, on whichever executor asks.
            foreach (var launch in request.Returned.Reverse())
            {
                if (_handed.Remove(launch, out var task))
                    _pending.AddFirst(task);
            }
            answer = Answer((int)request.Window, (int)request.Holding, request.Leaving);
        }
        Changed?.Invoke();
        return Task.FromResult(answer);
    }

    private TaskLaunch Answer(int window, int holding, bool leaving)
    {
        var answer = new TaskLaunch { Window = 64 };
        for (var room = leaving ? 0 : Math.Max(1, window) - holding; room > 0 && _pending.First is { } next; room--)
        {
            _pending.RemoveFirst();
            var launch = ++_launches;
            _handed[launch] = next.Value;
            var handed = new TaskLaunch
            {
                Task = new V1.Task { Metadata = new Metadata { Id = next.Value.Id }, Spec = new TaskSpec { Input = ByteString.CopyFromUtf8(next.Value.Input) } },
                Launch = launch,
            };
            if (answer.Task is null)
            {
                answer.Task = handed.Task;
                answer.Launch = launch;
            }
            else
            {
                answer.More.Add(handed);
            }
        }
        return answer;
    }

    /// <summary>Waits until the requests so far satisfy <paramref name="condition"/>, for at most 10 s (scaled, see <see cref="Wait.Scaled"/>).</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<CompleteAndLaunchTaskRequest>, bool> condition, string expectation)
    {
        var deadline = DateTime.UtcNow + Wait.Scaled(TimeSpan.FromSeconds(10));
        while (true)
        {
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Wake() => changed.TrySetResult();
            Changed += Wake;
            try
            {
                lock (_lock)
                {
                    if (condition(Requests))
                        return;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || await Task.WhenAny(changed.Task, Task.Delay(left)) != changed.Task)
                    Assert.Fail($"expected {expectation} within 10 s; requests seen: {string.Join(" | ", Requests)}");
            }
            finally
            {
                Changed -= Wake;
            }
        }
    }
}

/// <summary>
/// A service as <see cref="TaskWindowLoop"/> sees it: a task's output is its input, except <c>crash</c> (the service
/// dies with it) and <c>hang</c> (runs until <see cref="Release"/> or a kill).
/// </summary>
internal sealed class FakeTaskRunner(bool canPipeline = false) : ITaskRunner
{
    private readonly TaskCompletionSource _killed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Every invocation: the task, whether it was sent ahead already, the task sent behind it.</summary>
    public ConcurrentQueue<(string TaskId, bool Sent, string? Behind)> Invocations { get; } = new();

    /// <summary>Ends every <c>hang</c> task with its output.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether the service was killed.</summary>
    public bool Killed => _killed.Task.IsCompleted;

    /// <summary>How many invocations have not ended yet.</summary>
    public int Running => Volatile.Read(ref _running);

    private int _running;

    public bool CanPipeline => canPipeline;

    public bool TaskStreamOpen => canPipeline && !Killed;

    public void Kill() => _killed.TrySetResult();

    public async Task<TaskOutcome> InvokeAsync(V1.Task task, bool sent, V1.Task? behind, CancellationToken cancellationToken)
    {
        Invocations.Enqueue((task.Metadata.Id, sent, behind?.Metadata.Id));
        var input = task.Spec.Input.ToStringUtf8();
        Interlocked.Increment(ref _running);
        try
        {
            if (input == "crash")
                return new TaskOutcome(new TaskResult { ReturnCode = -1, SystemFailure = true }, ServiceGone: true, BehindSent: false);
            if (input == "hang" && await Task.WhenAny(Release.Task, _killed.Task) == _killed.Task)
                return new TaskOutcome(new TaskResult { ReturnCode = -1, SystemFailure = true }, ServiceGone: true, BehindSent: false);
            return new TaskOutcome(new TaskResult { Output = ByteString.CopyFromUtf8(input) }, ServiceGone: false, BehindSent: behind is not null);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
