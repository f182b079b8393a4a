using System.Collections.Concurrent;
using Flame.Grains;
using Flame.SessionManager.Security;
using Grpc.Core;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// The gateway's one loop over the task exchange (<see cref="ISessionGrain.ExchangeTaskAsync"/>): every wire form of
/// the executors' per-task calls (Backend's LaunchTask and CompleteTask, BackendExt's CompleteAndLaunchTask and its
/// stream) is a thin adapter over <see cref="ExchangeAsync{TRequest}"/>. Here, once: the executor's checks, its session,
/// the long wait as several grain calls, what a vanished session or a refused executor means, and giving a task back
/// when its caller hung up before it could be delivered.
/// </summary>
internal sealed class TaskExchangeGateway(IGrainFactory grains, ExecutorSessions sessions, Authorizer authorizer)
{
    /// <summary>The largest task window a gateway grants an executor (CompleteAndLaunchTaskRequest.window).</summary>
    public const int MaxTaskWindow = 64;

    /// <summary>
    /// One turn of the executor <paramref name="executorId"/>, through to an answer: <paramref name="map"/> turns the
    /// request into the exchange (after the caller's checks; its InvalidArgument is the request's). The answer is
    /// <see cref="TaskHandout.Done"/> when the session is gone or the wait ended without work; NotFound only for a
    /// completion alone (<see cref="TaskExchangeKind.Complete"/>), which has no "no more work" to answer.
    /// </summary>
    public async Task<TaskHandout> ExchangeAsync<TRequest>(
        string? executorId, string action, TRequest request, Func<TRequest, TaskExchange> map, ServerCallContext context)
    {
        var id = FlameIds.ValidateExecutorId(executorId);
        await authorizer.CheckExecutorAsync(Caller.Of(context), id, action);
        var exchange = map(request);
        var session = await SessionOfAsync(id);
        while (true)
        {
            TaskHandout handout;
            try
            {
                handout = await session.ExchangeTaskAsync(id, exchange);
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound && exchange.Kind != TaskExchangeKind.Complete)
            {
                sessions.Forget(id);
                // The session is gone: no more work (unbind), unless the executor still holds tasks and only asked.
                return exchange is { Kind: TaskExchangeKind.Window, Holding: > 0 } ? TaskHandout.None : TaskHandout.Done;
            }
            catch (FlameException ex) when (ex.Kind is FlameErrorKind.FailedPrecondition or FlameErrorKind.NotFound)
            {
                sessions.Forget(id); // the executor is no longer attached: the cached session is stale
                throw;
            }
            if (handout.Task is { } first)
            {
                if (context.CancellationToken.IsCancellationRequested)
                {
                    // The executor manager hung up while we waited: don't strand the tasks on it.
                    await session.ExchangeTaskAsync(id, GiveBack(first, handout.More));
                    context.CancellationToken.ThrowIfCancellationRequested();
                }
                return handout;
            }
            if (!handout.KeepWaiting)
                return handout;
            if (context.CancellationToken.IsCancellationRequested)
                return TaskHandout.Done;
            // Recorded: asking again (a long wait is several calls) only waits.
            exchange = exchange.Kind == TaskExchangeKind.Window ? exchange with { Results = [], Returned = [] } : TaskExchange.Next;
        }
    }

    private static TaskExchange GiveBack(TaskInfo first, TaskInfo[]? more)
    {
        var launches = new long[1 + (more?.Length ?? 0)];
        launches[0] = first.Launch;
        for (var i = 1; i < launches.Length; i++)
            launches[i] = more![i - 1].Launch;
        return new TaskExchange { Kind = TaskExchangeKind.GiveBack, Returned = launches };
    }

    /// <summary>The session grain the executor is bound to; cached, since resolving a grain reference costs microseconds per task.</summary>
    private async ValueTask<ISessionGrain> SessionOfAsync(string executorId)
    {
        if (sessions.TryGet(executorId, out var cached))
            return cached;
        var executor = await grains.GetGrain<IExecutorGrain>(executorId).GetAsync();
        if (executor.State != ExecutorState.Bound || executor.SessionId is null)
            throw FlameException.FailedPrecondition($"executor '{executorId}' is {executor.State}, not Bound to a session");
        var session = grains.GetGrain<ISessionGrain>(executor.SessionId);
        sessions.Remember(executorId, session);
        return session;
    }
}

/// <summary>
/// Which session each executor is bound to, as this gateway last learnt it, so that the per-task
/// calls need not ask the executor grain. A stale entry is harmless: the session grain refuses an
/// executor that is not attached to it, and the entry is dropped on unbind.
/// </summary>
internal sealed class ExecutorSessions
{
    private readonly ConcurrentDictionary<string, ISessionGrain> _sessions = new(StringComparer.Ordinal);

    public bool TryGet(string executorId, out ISessionGrain session) => _sessions.TryGetValue(executorId, out session!);

    public void Remember(string executorId, ISessionGrain session) => _sessions[executorId] = session;

    public void Forget(string executorId) => _sessions.TryRemove(executorId, out _);
}
