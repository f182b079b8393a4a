using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Flame.Client;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>
/// A client at work for the fault tests: it keeps a <c>WatchSession</c> open and creates tasks in batches of
/// <see cref="Batch"/> for as long as the run lasts (at most <see cref="Backlog"/> tasks created and not yet seen
/// finished, so that creation goes on through the whole run, fault included). Every error any call throws is recorded,
/// never retried or swallowed here: our client's own failover is what is tested.
/// </summary>
public sealed class WorkingClient
{
    /// <summary>Tasks per CreateTasks call.</summary>
    public const int Batch = 10;

    /// <summary>Tasks created and not yet reported finished by the watch: about two seconds of work for four executors.</summary>
    public const int Backlog = 60;

    private readonly IFlameClient _client;
    private readonly string _sessionId;
    private readonly int _tasks;
    private readonly string _work;
    private readonly SemaphoreSlim _room = new(Backlog);
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private readonly Dictionary<long, string> _expected = [];
    private readonly Stopwatch _clock = new();
    private readonly TaskCompletionSource _allReported = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="work">The input of task n is <paramref name="work"/> + <c>out-n</c>; the test service answers with <c>out-n</c>.</param>
    public WorkingClient(IFlameClient client, string sessionId, int tasks, string work)
    {
        Assert.True(tasks % Batch == 0, $"{tasks} tasks are not whole batches of {Batch}");
        (_client, _sessionId, _tasks, _work) = (client, sessionId, tasks, work);
    }

    /// <summary>A task the watch reported, and when (since the run started).</summary>
    public sealed record Delivery(long Id, TaskState State, string Output, TimeSpan At);

    /// <summary>The errors of every call, in the order they came.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>Everything the watch reported, in the order it came.</summary>
    public IReadOnlyCollection<Delivery> Deliveries => _deliveries;

    /// <summary>From the start of the run until the watch ended.</summary>
    public TimeSpan Duration { get; private set; }

    /// <summary>Time since the run started (for the moment of a fault).</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>
    /// Watches, creates every task (calling <paramref name="acknowledged"/> with the number of batches acknowledged so
    /// far after each acknowledgement, without waiting for what it starts), waits until the watch reported as many
    /// tasks as were created, closes the session (which would cancel what is still pending) and returns once the watch
    /// has ended, or as soon as the run failed.
    /// </summary>
    public async Task RunAsync(Action<int> acknowledged, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(Wait.Scaled(timeout));
        _clock.Start();
        var inPlace = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = WatchAsync(inPlace, deadline);
        await Task.WhenAny(inPlace.Task, watch);
        if (inPlace.Task.IsCompleted && await CreateAllAsync(acknowledged, deadline.Token)
            && await Task.WhenAny(_allReported.Task, watch) == _allReported.Task)
            await CallAsync("CloseSession", () => _client.CloseSessionAsync(_sessionId, deadline.Token));
        else
            await deadline.CancelAsync(); // nothing more will finish: end the watch
        await watch;
        if (deadline.IsCancellationRequested && _deliveries.Count < _tasks)
            _errors.Enqueue($"{_clock.Elapsed.TotalSeconds:0.0}s the run ended (or timed out after {timeout.TotalSeconds:0}s) with {_deliveries.Count} of {_tasks} task(s) reported");
        Duration = _clock.Elapsed;
        _clock.Stop();
    }

    /// <summary>
    /// The checks of a run: no error at all; the watch reported every created task exactly once, Succeed, with its
    /// own output; and ids 1…n (no task created twice by a resent create).
    /// </summary>
    public void CheckEveryTaskReportedOnce(Func<string> context)
    {
        Assert.True(_errors.IsEmpty, $"the client saw {_errors.Count} error(s):\n  {string.Join("\n  ", _errors)}{context()}");
        var twice = _deliveries.GroupBy(d => d.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"the watch reported task(s) {string.Join(", ", twice)} more than once");
        var missing = Enumerable.Range(1, _tasks).Select(i => (long)i).Except(_deliveries.Select(d => d.Id)).ToList();
        Assert.True(missing.Count == 0,
            $"the watch never reported {missing.Count} of {_tasks} task(s), the first {string.Join(", ", missing.Take(20))}{context()}");
        Assert.Equal(_tasks, _deliveries.Count);
        Assert.All(_deliveries, d => Assert.True(d.State == TaskState.Succeed && d.Output == _expected[d.Id],
            $"task {d.Id} should have succeeded with {_expected[d.Id]}, the watch reported {d.State} with {d.Output}"));
    }

    /// <summary>The longest time after <paramref name="from"/> without a finished task: from it to the first, and between two.</summary>
    public TimeSpan LongestStallAfter(TimeSpan from)
    {
        var longest = TimeSpan.Zero;
        var previous = from;
        foreach (var at in _deliveries.Select(d => d.At).Where(at => at >= from).Order())
        {
            longest = at - previous > longest ? at - previous : longest;
            previous = at;
        }
        return longest;
    }

    private async Task WatchAsync(TaskCompletionSource inPlace, CancellationTokenSource run)
    {
        try
        {
            await foreach (var batch in _client.WatchSessionAsync(_sessionId, run.Token))
            {
                inPlace.TrySetResult();
                foreach (var task in batch)
                    _deliveries.Enqueue(new Delivery(task.Id, task.State, Text(task.Output), _clock.Elapsed));
                if (batch.Count > 0)
                    _room.Release(batch.Count);
                if (_deliveries.Count >= _tasks)
                    _allReported.TrySetResult();
            }
        }
        catch (Exception ex)
        {
            _errors.Enqueue($"{_clock.Elapsed.TotalSeconds:0.0}s WatchSession: {Describe(ex)}");
            // Nothing more will be reported: stop the creator rather than let it wait for room until the deadline.
            await run.CancelAsync();
        }
    }

    /// <summary>True when every task was created; false after the first error (the run cannot know what it created).</summary>
    private async Task<bool> CreateAllAsync(Action<int> acknowledged, CancellationToken cancellationToken)
    {
        for (var batch = 0; batch * Batch < _tasks; batch++)
        {
            for (var i = 0; i < Batch; i++)
            {
                try
                {
                    await _room.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    _errors.Enqueue($"{_clock.Elapsed.TotalSeconds:0.0}s the run was stopped (the watch failed, or the deadline) with {_deliveries.Count} task(s) reported, batch {batch} waiting for room");
                    return false;
                }
            }
            var inputs = Enumerable.Range(batch * Batch + 1, Batch).Select(n => (byte[]?)Utf8($"{_work}out-{n}")).ToList();
            var first = await CallAsync("CreateTasks", () => _client.CreateTasksAsync(_sessionId, inputs, cancellationToken));
            if (first is null)
                return false;
            // One creator, so ids follow the inputs: a create applied twice would show as a gap here.
            if (first != batch * Batch + 1)
            {
                _errors.Enqueue($"batch {batch} got first id {first}, expected {batch * Batch + 1}");
                return false;
            }
            for (var n = batch * Batch + 1; n <= (batch + 1) * Batch; n++)
                _expected[n] = $"out-{n}";
            acknowledged(batch + 1);
        }
        return true;
    }

    private async Task<T?> CallAsync<T>(string call, Func<Task<T>> run) where T : struct
    {
        try
        {
            return await run();
        }
        catch (Exception ex)
        {
            _errors.Enqueue($"{_clock.Elapsed.TotalSeconds:0.0}s {call}: {Describe(ex)}");
            return null;
        }
    }

    private async Task CallAsync(string call, Func<Task> run)
    {
        try
        {
            await run();
        }
        catch (Exception ex)
        {
            _errors.Enqueue($"{_clock.Elapsed.TotalSeconds:0.0}s {call}: {Describe(ex)}");
        }
    }

    // An exception that is not a FlameException is not what our client promises: its origin is worth the stack.
    private static string Describe(Exception ex) =>
        ex is FlameException flame ? $"{flame.Kind.ToString()} {flame.Message}" : ex.ToString();

    /// <summary>The seed of a test's random choices: FLAME_E2E_SEED when set (to replay a run), otherwise a new one.</summary>
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("FLAME_E2E_SEED"), CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
}
