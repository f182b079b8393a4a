using System.Runtime.CompilerServices;

namespace Flame.Client;

/// <summary>
/// <c>WatchTask</c>, <c>WatchSession</c> and <c>ListTask</c> that outlive their gateway: when the stream breaks with
/// <see cref="FlameErrorKind.Unavailable"/>, it is opened again (on another gateway) and resumes where it left off,
/// with nothing missed and nothing reported twice. A cancellation the caller did not ask for (a connect timeout, a
/// call the channel gave up on during a cluster restart) counts as <see cref="FlameErrorKind.Unavailable"/> too.
/// </summary>
internal static class ResumingStreams
{
    /// <summary>
    /// A task's changes: a new stream starts with the task as it is now, which is passed on only if it differs from
    /// the last one reported (another state, or more events).
    /// </summary>
    /// <remarks>
    /// Only a watch that got an answer, or whose client reached a gateway before (<paramref name="reached"/>), is opened
    /// again: with gateways that were never reached (a wrong address) the error comes at once.
    /// </remarks>
    public static IAsyncEnumerable<TaskInfo> WatchTaskAsync(
        Func<CancellationToken, IAsyncEnumerable<TaskInfo>> open, bool reached, CancellationToken cancellationToken)
    {
        TaskInfo? last = null;
        return ResumeAsync(open, reached, task =>
        {
            if (last is not null && task.State == last.State && task.Events.Count == last.Events.Count)
                return false;
            last = task;
            return true;
        }, task => task.State.IsTerminal(), cancellationToken);
    }

    /// <summary>
    /// A session's finished tasks: a new stream reports only what finishes from then on, so once it is in place (its
    /// first, empty batch) the tasks that finished meanwhile are read with <paramref name="list"/>; a task already
    /// reported is dropped, whichever way it comes again.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<TaskInfo>> WatchSessionAsync(
        Func<CancellationToken, IAsyncEnumerable<IReadOnlyList<TaskInfo>>> open,
        Func<CancellationToken, IAsyncEnumerable<TaskInfo>> list,
        bool reached,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reported = new HashSet<long>();
        var attempts = new GatewayRetry.Attempts();
        var resumed = false;
        while (true)
        {
            await using (var stream = open(cancellationToken).GetAsyncEnumerator(cancellationToken))
            {
                var catchUp = resumed;
                while (true)
                {
                    IReadOnlyList<TaskInfo> batch;
                    try
                    {
                        if (!await stream.MoveNextAsync().ConfigureAwait(false))
                            yield break;
                        batch = stream.Current;
                    }
                    catch (Exception ex) when (reached && GatewayRetry.IsRetryable(GatewayRetry.Classify(ex, cancellationToken)) && attempts.CanWait)
                    {
                        break;
                    }
                    catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Not the caller's cancellation: a gateway that did not answer, and the budget is spent.
                        throw GatewayRetry.Classify(ex, cancellationToken);
                    }
                    reached = true;
                    if (catchUp)
                    {
                        catchUp = false;
                        List<TaskInfo> missed;
                        try
                        {
                            missed = await FinishedAsync(list(cancellationToken), reported).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (GatewayRetry.IsRetryable(GatewayRetry.Classify(ex, cancellationToken)) && attempts.CanWait)
                        {
                            break;
                        }
                        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                        {
                            throw GatewayRetry.Classify(ex, cancellationToken);
                        }
                        if (missed.Count > 0)
                            yield return missed;
                    }
                    attempts.Progressed();
                    var fresh = batch.Count == 0 ? batch : batch.Where(t => reported.Add(t.Id)).ToArray();
                    // The empty batch says the watch is in place: once, not again on each resume.
                    if (fresh.Count > 0 || (batch.Count == 0 && !resumed))
                        yield return fresh;
                }
            }
            resumed = true;
            await attempts.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A session's tasks in id order (as <c>ListTask</c> sends them): when the stream breaks, the listing is made again
    /// and passes on only the tasks after the last one passed on, so none is listed twice and none missed.
    /// </summary>
    public static IAsyncEnumerable<TaskInfo> ListTasksAsync(
        Func<CancellationToken, IAsyncEnumerable<TaskInfo>> open, bool reached, CancellationToken cancellationToken)
    {
        var last = long.MinValue;
        return ResumeAsync(open, reached, task =>
        {
            if (task.Id <= last)
                return false;
            last = task.Id;
            return true;
        }, _ => false, cancellationToken);
    }

    /// <summary>
    /// The items of <paramref name="open"/>'s stream that <paramref name="isNew"/> accepts, the stream opened again on a
    /// break; ends with the stream or after an item that <paramref name="isLast"/> accepts.
    /// </summary>
    private static async IAsyncEnumerable<T> ResumeAsync<T>(
        Func<CancellationToken, IAsyncEnumerable<T>> open, bool reached, Func<T, bool> isNew, Func<T, bool> isLast,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var attempts = new GatewayRetry.Attempts();
        while (true)
        {
            await using (var stream = open(cancellationToken).GetAsyncEnumerator(cancellationToken))
            {
                while (true)
                {
                    T item;
                    try
                    {
                        if (!await stream.MoveNextAsync().ConfigureAwait(false))
                            yield break;
                        item = stream.Current;
                    }
                    catch (Exception ex) when (reached && GatewayRetry.IsRetryable(GatewayRetry.Classify(ex, cancellationToken)) && attempts.CanWait)
                    {
                        break;
                    }
                    catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Not the caller's cancellation: a gateway that did not answer, and the budget is spent.
                        throw GatewayRetry.Classify(ex, cancellationToken);
                    }
                    reached = true;
                    if (isNew(item))
                    {
                        attempts.Progressed();
                        yield return item;
                    }
                    if (isLast(item))
                        yield break;
                }
            }
            await attempts.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The finished tasks of <paramref name="tasks"/> not in <paramref name="reported"/>, which are added to it.</summary>
    private static async Task<List<TaskInfo>> FinishedAsync(IAsyncEnumerable<TaskInfo> tasks, HashSet<long> reported)
    {
        var found = new List<TaskInfo>();
        await foreach (var task in tasks.ConfigureAwait(false))
            if (task.State.IsTerminal() && !reported.Contains(task.Id))
                found.Add(task);
        // Only now: a listing cut short must not mark tasks reported that were never passed on.
        foreach (var task in found)
            reported.Add(task.Id);
        return found;
    }
}
