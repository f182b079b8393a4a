using System.Runtime.CompilerServices;

namespace Flame.Client;

/// <summary>
/// <c>WatchTask</c> and <c>WatchSession</c> that outlive their gateway: when the stream breaks with
/// <see cref="FlameErrorKind.Unavailable"/>, the watch is opened again (on another gateway) and resumes where it left
/// off, with nothing missed and nothing reported twice.
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
    public static async IAsyncEnumerable<TaskInfo> WatchTaskAsync(
        Func<CancellationToken, IAsyncEnumerable<TaskInfo>> open, bool reached, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        TaskInfo? last = null;
        var attempts = new GatewayRetry.Attempts();
        while (true)
        {
            await using (var stream = open(cancellationToken).GetAsyncEnumerator(cancellationToken))
            {
                while (true)
                {
                    TaskInfo task;
                    try
                    {
                        if (!await stream.MoveNextAsync().ConfigureAwait(false))
                            yield break;
                        task = stream.Current;
                    }
                    catch (Exception ex) when (reached && GatewayRetry.IsRetryable(ex) && attempts.CanWait)
                    {
                        break;
                    }
                    reached = true;
                    attempts.Progressed();
                    if (last is null || task.State != last.State || task.Events.Count != last.Events.Count)
                    {
                        last = task;
                        yield return task;
                    }
                    if (task.State.IsTerminal())
                        yield break;
                }
            }
            await attempts.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
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
                    catch (Exception ex) when (reached && GatewayRetry.IsRetryable(ex) && attempts.CanWait)
                    {
                        break;
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
                        catch (Exception ex) when (GatewayRetry.IsRetryable(ex) && attempts.CanWait)
                        {
                            break;
                        }
                        if (missed.Count > 0)
                            yield return missed;
                    }
                    attempts.Progressed();
                    var fresh = batch.Count == 0 ? batch : batch.Where(t => reported.Add(t.Id)).ToArray();
                    if (fresh.Count > 0 || batch.Count == 0)
                        yield return fresh;
                }
            }
            resumed = true;
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
