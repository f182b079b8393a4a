using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using BackendClient = Flame.V1.Backend.BackendClient;

namespace Flame.ExecutorManager.Gateway;

/// <summary>
/// One executor's calls to the gateway, with the one retry policy of the executor manager: a call the gateway answers
/// UNAVAILABLE is tried again with back-off (100 ms doubling to 5 s, with jitter) until it is answered or cancelled;
/// every other failure is the caller's. Every call an executor makes (unary or an exchange on its task stream) goes
/// through <see cref="RetryAsync{TState, T}"/>, so the policy and its log line live here only.
/// </summary>
/// <remarks>
/// Retrying UNAVAILABLE is safe for every call the executor makes: the gateway answers it only when the call did not
/// reach the cluster, and the calls that do change state there are idempotent or name what they are for (a task's
/// result names its task and launch). The shared channel moves to the next configured gateway meanwhile.
/// </remarks>
internal sealed partial class GatewayCalls
{
    private static readonly TimeSpan RetryInitial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(5);

    private readonly BackendClient _backend;
    private readonly string _executorId;
    private readonly ILogger _logger;
    // The request that never changes, made once: the hot path allocates only what differs per task.
    private readonly V1.LaunchTaskRequest _launchRequest;

    /// <summary>Calls through <paramref name="backend"/> for <paramref name="executorId"/>, logging to <paramref name="logger"/>.</summary>
    public GatewayCalls(BackendClient backend, string executorId, ILogger logger)
    {
        _backend = backend;
        _executorId = executorId;
        _logger = logger;
        _launchRequest = new V1.LaunchTaskRequest { ExecutorId = executorId };
    }

    /// <summary>The deadline of each call made by <see cref="CallOnceAsync{TRequest}"/>, while the node shuts down.</summary>
    public static readonly TimeSpan ShutdownCallTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The flame.v1 Backend client the calls go through.</summary>
    public BackendClient Backend => _backend;

    /// <summary>The executor the calls are made for (in log lines).</summary>
    public string ExecutorId => _executorId;

    /// <summary>
    /// Runs <paramref name="call"/> until it is not answered UNAVAILABLE: the one retry policy. Other failures and
    /// the cancellation of <paramref name="cancellationToken"/> are thrown.
    /// </summary>
    /// <param name="rpc">The call's name, for the log line of each retry.</param>
    /// <param name="state">What <paramref name="call"/> needs (a static lambda then allocates nothing per call).</param>
    /// <param name="call">The call, given <paramref name="state"/> and the call's cancellation token.</param>
    /// <param name="cancellationToken">Ends the call and the waits between its tries.</param>
    /// <remarks>Pooled: a call that completes costs no allocation of its own on the per-task path.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<T> RetryAsync<TState, T>(
        string rpc, TState state, Func<TState, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var backoff = new Backoff(RetryInitial, RetryMax);
        while (true)
        {
            try
            {
                return await call(state, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                var delay = backoff.Next();
                LogGatewayUnavailable(_executorId, rpc, delay.TotalMilliseconds, ex.Status.Detail);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A unary Backend call, retried while the gateway is UNAVAILABLE; other failures are thrown.</summary>
    public ValueTask<TResponse> CallAsync<TRequest, TResponse>(
        Func<BackendClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> call, TRequest request, string rpc,
        CancellationToken cancellationToken) =>
        RetryAsync(rpc, (_backend, call, request),
            static (s, token) => s.call(s._backend, s.request, new CallOptions(cancellationToken: token)).ResponseAsync, cancellationToken);

    /// <summary>A call answered by a Result: a refusal (non-zero code or an error status) is logged, not thrown.</summary>
    public async Task CallExpectingResultAsync<TRequest>(
        Func<BackendClient, TRequest, CallOptions, AsyncUnaryCall<V1.Result>> call, TRequest request, string rpc,
        CancellationToken cancellationToken)
    {
        try
        {
            var result = await CallAsync(call, request, rpc, cancellationToken).ConfigureAwait(false);
            if (result.ReturnCode != 0)
                Refused(rpc, result);
        }
        catch (RpcException ex)
        {
            Refused(rpc, ex);
        }
    }

    /// <summary>One try with a short deadline, for shutdown: the gateway may be gone already. Failures are logged.</summary>
    public async Task CallOnceAsync<TRequest>(
        Func<BackendClient, TRequest, CallOptions, AsyncUnaryCall<V1.Result>> call, TRequest request, string rpc)
    {
        try
        {
            var result = await call(_backend, request, new CallOptions(deadline: DateTime.UtcNow + ShutdownCallTimeout)).ResponseAsync
                .ConfigureAwait(false);
            if (result.ReturnCode != 0)
                Refused(rpc, result);
        }
        catch (RpcException ex)
        {
            Refused(rpc, ex);
        }
        catch (OperationCanceledException)
        {
            LogCallRefused(_executorId, rpc, $"no answer within {ShutdownCallTimeout.TotalSeconds}s");
        }
    }

    /// <summary>Logs that the gateway refused <paramref name="rpc"/> with a non-zero return code.</summary>
    public void Refused(string rpc, V1.Result result) => LogCallRefused(_executorId, rpc, $"return code {result.ReturnCode}: {result.Message}");

    /// <summary>Logs that the gateway refused <paramref name="rpc"/> with an error status.</summary>
    public void Refused(string rpc, RpcException ex) => LogCallRefused(_executorId, rpc, $"{ex.StatusCode}: {ex.Status.Detail}");

    /// <summary>LaunchTask: the executor's next task (a long-poll), none when there is no more work.</summary>
    public ValueTask<V1.LaunchTaskResponse> LaunchTaskAsync(CancellationToken cancellationToken) =>
        CallAsync(static (b, r, o) => b.LaunchTaskAsync(r, o), _launchRequest, "LaunchTask", cancellationToken);

    /// <summary>CompleteTask: a refusal (a late completion: the task was cancelled or given to another executor) is logged, not thrown.</summary>
    public async Task CompleteTaskAsync(string sessionId, string taskId, V1.TaskResult result, CancellationToken cancellationToken)
    {
        var request = new V1.CompleteTaskRequest { ExecutorId = _executorId, TaskResult = result };
        try
        {
            var answer = await CallAsync(static (b, r, o) => b.CompleteTaskAsync(r, o), request, "CompleteTask", cancellationToken)
                .ConfigureAwait(false);
            if (answer.ReturnCode != 0)
                CompletionRefused(sessionId, taskId, $"return code {answer.ReturnCode}: {answer.Message}");
            else
                Completed(sessionId, taskId, result.ReturnCode);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            // The gateway keeps what it has.
            CompletionRefused(sessionId, taskId, ex.Status.Detail);
        }
    }

    /// <summary>Logs that the gateway took the result of <paramref name="taskId"/>.</summary>
    public void Completed(string sessionId, string taskId, int returnCode) => LogTaskCompleted(_executorId, sessionId, taskId, returnCode);

    /// <summary>Logs that the gateway refused the result of <paramref name="taskId"/>.</summary>
    public void CompletionRefused(string sessionId, string taskId, string reason) => LogCompletionRefused(_executorId, sessionId, taskId, reason);
}
