namespace Flame.Grains.Executors;

/// <summary>
/// What an executor's grain says of it, for the grains that check their executors are still known: the node's audit
/// and the session's check. Executor grains are not persisted, so one that lived on a silo that died comes back empty.
/// </summary>
internal readonly record struct ExecutorLookup(bool Answered, ExecutorInfo? Executor)
{
    /// <summary>The grain answered that it knows no such executor, or knows it as Released.</summary>
    public bool Gone => Answered && Executor is null or { State: ExecutorState.Released };

    /// <summary>Asks the executor's grain; a call that is not answered (its silo is dying) is no answer, not a loss.</summary>
    public static async Task<ExecutorLookup> AskAsync(IGrainFactory grains, string executorId)
    {
        try
        {
            return new ExecutorLookup(true, await grains.GetGrain<IExecutorGrain>(executorId).GetAsync());
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
        {
            return new ExecutorLookup(true, null);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return new ExecutorLookup(false, null);
        }
    }

    /// <summary>Tells the scheduler that an executor is gone, so that its view lets it go.</summary>
    public static void ReportGone(IGrainFactory grains, string executorId, string node = "") =>
        _ = grains.GetGrain<ISchedulerGrain>(ISchedulerGrain.Key)
            .ReportExecutorAsync(new ExecutorInfo { Id = executorId, Node = node, State = ExecutorState.Released });
}
