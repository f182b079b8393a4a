using Flame.ExecutorManager.Gateway;

namespace Flame.ExecutorManager.Executors;

/// <summary>What running one task on the service came to.</summary>
/// <param name="Result">The task's result, whatever became of it (a crash, a timeout and a gRPC error are results too).</param>
/// <param name="ServiceGone">The service died or was killed: the executor can run nothing more.</param>
/// <param name="BehindSent">The task to send behind it is on the service's stream (only when one was given).</param>
internal readonly record struct TaskOutcome(V1.TaskResult Result, bool ServiceGone, bool BehindSent);

/// <summary>The service side of a bound executor, as the task loops see it.</summary>
internal interface ITaskRunner
{
    /// <summary>Whether a task can be sent behind the running one (the service serves the InstanceExt stream).</summary>
    bool CanPipeline { get; }

    /// <summary>Whether the service's task stream is open (false after it broke).</summary>
    bool TaskStreamOpen { get; }

    /// <summary>
    /// Runs <paramref name="task"/> and turns every way it can fail into a result. <paramref name="sent"/>: it is on
    /// the service's stream already (sent behind the one before). <paramref name="behind"/>: a task to send behind it.
    /// </summary>
    Task<TaskOutcome> InvokeAsync(V1.Task task, bool sent, V1.Task? behind, CancellationToken cancellationToken);

    /// <summary>Kills the service (the binding is abandoned while it runs a task).</summary>
    void Kill();
}

/// <summary>
/// The task loop with a window: the service runs the held tasks one after another while one exchange at a time
/// reports the results gathered so far and brings more tasks. Each result is sent as soon as no exchange is in
/// flight, so a slow task's result is not held back; fast tasks' results share a message. How many tasks it holds
/// follows how long they run (<see cref="TaskPace"/>): about <see cref="TaskPace.Horizon"/> of work queued behind
/// the running task, so long tasks are not hoarded by one executor while others wait; and what it holds goes back
/// unstarted when the running task outlasts <see cref="TaskPace.GiveBackAfter"/>. One instance per binding; only
/// <see cref="RunAsync"/> touches its state (never the invocation running meanwhile). Tasks are timed with
/// <paramref name="time"/> (<see cref="TimeProvider.System"/> unless a test says otherwise).
/// </summary>
internal sealed class TaskWindowLoop(IWindowExchange exchange, ITaskRunner runner, string executorId, int maxWindow, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>
    /// The largest input sent to a service behind its running task. Such a write must complete without the service
    /// reading it (it reads the task only when it starts it), so it has to fit in the stream's HTTP/2 flow-control
    /// window (65,535 bytes unless the service raises it). A larger one would block the write, and with it the read
    /// of the running task's result: when that result is large too, the service blocks writing it and neither side
    /// moves until the timeout. Tasks with large inputs are not the tiny ones that pipelining is for anyway.
    /// </summary>
    internal const int MaxBehindInputBytes = 32 * 1024;

    private readonly TaskPace _pace = new(maxWindow);
    // Handed to the executor and not started, in the order they are to run.
    private readonly Queue<V1.TaskLaunch> _queue = new();
    // Results not yet sent (copied into each request, so the list is reused).
    private readonly List<V1.CompletedTask> _results = [];
    // The one exchange in flight, and how many tasks its request said the executor held.
    private Task<V1.TaskLaunch>? _inflight;
    private int _inflightHolding;
    // The task sent to the service behind the running one (short tasks only), so that the service finds it waiting
    // when it ends the running one; once chosen it is the service's and is never given back unstarted while the
    // service lives. _aheadSent: it is on the service's stream (else it is sent when it runs).
    private V1.TaskLaunch? _ahead;
    private bool _aheadSent;
    // The invocation under way, so that an exception out of the loop can end it first.
    private Task<TaskOutcome>? _running;
    // Whether the last answer brought tasks: while it did not, no more are asked until a result goes.
    private bool _askMore;

    /// <summary>Tasks held: queued, and the one sent ahead.</summary>
    private int Held => _queue.Count + (_ahead is null ? 0 : 1);

    /// <summary>
    /// Runs the binding's tasks from <paramref name="first"/> (the answer that granted the window) until the gateway
    /// has no more. True if the service is gone (it died or was killed): what ran was reported, what never started
    /// was given back, and the executor said it is leaving.
    /// </summary>
    public async Task<bool> RunAsync(V1.TaskLaunch first, CancellationToken cancellationToken)
    {
        _askMore = Take(first);
        try
        {
            while (true)
            {
                var window = _pace.Window;
                if (_inflight is null && (_results.Count > 0 || (_askMore && Held < window)))
                    Send(Request(Held, window), Held, cancellationToken);
                if (TryNext(out var next, out var sent))
                {
                    if (await RunOneAsync(next, sent, cancellationToken).ConfigureAwait(false))
                        return true;
                    continue;
                }
                if (_inflight is null)
                    return false; // nothing held, nothing to report, nothing asked: cannot happen, but never spin
                var answer = await _inflight.ConfigureAwait(false);
                _inflight = null;
                _askMore = Take(answer);
                if (!_askMore && _inflightHolding == 0)
                    return false; // held nothing and got nothing: no more work, unbind
            }
        }
        finally
        {
            // Left by an exception while an exchange was in flight: its outcome no longer matters.
            _ = _inflight?.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            if (_running is { IsCompleted: false } running)
            {
                // ...or while the service ran a task (an exchange failed meanwhile): the binding is abandoned, so
                // the service goes, and the invocation ends before anyone disposes what it uses.
                runner.Kill();
                await ((Task)running).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The next task to run: the one sent ahead, else the head of the queue.</summary>
    private bool TryNext(out V1.TaskLaunch next, out bool sent)
    {
        if (_ahead is { } ahead)
        {
            (next, sent) = (ahead, _aheadSent);
            (_ahead, _aheadSent) = (null, false);
            return true;
        }
        sent = false;
        return _queue.TryDequeue(out next!);
    }

    /// <summary>Runs one task while the exchange in flight goes on. True if the service is gone (the loop ends).</summary>
    private async Task<bool> RunOneAsync(V1.TaskLaunch next, bool sent, CancellationToken cancellationToken)
    {
        var task = next.Task!;
        var started = _time.GetTimestamp();
        if (_pace.Window > 1 && runner.CanPipeline && _queue.TryPeek(out var behind) && FitsBehind(behind.Task!))
            _ahead = _queue.Dequeue();
        var invoke = _running = runner.InvokeAsync(task, sent, _ahead?.Task, cancellationToken);
        // Tasks wait behind it in the queue, or may come with the exchange in flight.
        if ((_queue.Count > 0 || _inflight is not null) && !invoke.IsCompleted
            && !await CompletesWithinAsync(invoke, TaskPace.GiveBackAfter, _time).ConfigureAwait(false))
        {
            await GiveBackAsync(cancellationToken).ConfigureAwait(false);
        }
        var outcome = await invoke.ConfigureAwait(false);
        _running = null;
        _pace.Ran(_time.GetElapsedTime(started));
        _results.Add(new V1.CompletedTask { TaskId = task.Metadata?.Id ?? "", Launch = next.Launch, TaskResult = outcome.Result });
        // Not sent, or sent on a stream that then ended in error: it never reached the service's turn.
        _aheadSent = outcome.BehindSent && runner.TaskStreamOpen;
        if (outcome.ServiceGone)
        {
            await LeaveAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        if (_inflight is { IsCompleted: true } done)
        {
            _askMore = Take(await done.ConfigureAwait(false));
            _inflight = null;
        }
        return false;
    }

    /// <summary>A long task: what waits behind it goes back, for executors that are free now; no more is asked.</summary>
    private async Task GiveBackAsync(CancellationToken cancellationToken)
    {
        if (_inflight is not null)
            Take(await _inflight.ConfigureAwait(false));
        // A task sent behind it stays: it is on the service's stream (or its write is under way), so it is the
        // service's to run next.
        var keep = 1 + (_ahead is null ? 0 : 1);
        var giveBack = Request(holding: keep, window: 1);
        foreach (var queued in _queue)
            giveBack.Returned.Add(queued.Launch);
        _queue.Clear();
        Send(giveBack, keep, cancellationToken);
        _askMore = false;
    }

    /// <summary>
    /// The service is gone: report what ran, give back what never started (the service runs its tasks in order, so
    /// one sent ahead did not start either), and take no more.
    /// </summary>
    private async Task LeaveAsync(CancellationToken cancellationToken)
    {
        if (_inflight is not null)
            Take(await _inflight.ConfigureAwait(false));
        _inflight = null;
        var last = Request(0, _pace.Window);
        last.Leaving = true;
        if (_ahead is not null)
            last.Returned.Add(_ahead.Launch);
        foreach (var queued in _queue)
            last.Returned.Add(queued.Launch);
        await exchange.ExchangeAsync(last, cancellationToken).ConfigureAwait(false);
    }

    private void Send(V1.CompleteAndLaunchTaskRequest request, int holding, CancellationToken cancellationToken)
    {
        _inflightHolding = holding;
        _inflight = exchange.ExchangeAsync(request, cancellationToken);
    }

    /// <summary>A windowed request with the results gathered so far (they are then no longer pending).</summary>
    private V1.CompleteAndLaunchTaskRequest Request(int holding, int window)
    {
        var request = new V1.CompleteAndLaunchTaskRequest { ExecutorId = executorId, Window = (uint)window, Holding = (uint)holding };
        request.MoreResults.AddRange(_results);
        _results.Clear();
        return request;
    }

    /// <summary>Queues the tasks of an answer; true if it brought any.</summary>
    private bool Take(V1.TaskLaunch answer)
    {
        var count = 0;
        if (answer.Task is not null)
        {
            _queue.Enqueue(answer);
            count++;
        }
        foreach (var more in answer.More)
        {
            if (more.Task is null)
                continue;
            _queue.Enqueue(more);
            count++;
        }
        return count > 0;
    }

    private static bool FitsBehind(V1.Task task) => task.Spec is not { HasInput: true } spec || spec.Input.Length <= MaxBehindInputBytes;

    /// <summary>True if <paramref name="task"/> ends within <paramref name="limit"/> (its outcome is left in it).</summary>
    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan limit, TimeProvider time)
    {
        try
        {
            await task.WaitAsync(limit, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch
        {
            // Its fault is the caller's to see when it awaits the task.
        }
        return true;
    }
}
