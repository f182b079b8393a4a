using Flame.ExecutorManager.Gateway;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.ExecutorManager.Shims;

/// <summary>
/// How the tasks of one service process reach it: over the <c>flame.v1.InstanceExt</c> task stream (Flame.Orleans's
/// service SDK), or one standard <c>OnTaskInvoke</c> call each (every service, Flame's SDKs included). Chosen once per
/// process, before its first task (<see cref="ChooseAsync"/>), and kept for the process's life: no task is ever sent
/// the wrong way to find out.
/// </summary>
internal abstract class TaskChannel
{
    /// <summary>
    /// The longest wait for the service's answer to the probe. Flame.Orleans's SDK answers at once, and so does a
    /// service without the extension (UNIMPLEMENTED); a service that answers neither way in time is given
    /// OnTaskInvoke, which every service serves: the limit can cost speed, never a task.
    /// </summary>
    internal static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long the status of a refusal is waited for after unmarked headers, for the log only.</summary>
    private static readonly TimeSpan RefusalWait = TimeSpan.FromMilliseconds(500);

    /// <summary>The channel's name for logs: <c>stream</c> or <c>OnTaskInvoke</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Why it was chosen, for logs.</summary>
    public string Reason { get; private init; } = "";

    /// <summary>
    /// Whether tasks can be sent ahead of their results (<see cref="InvokePipelinedAsync"/>): only on the stream,
    /// whose service runs its tasks in order, one at a time.
    /// </summary>
    public abstract bool CanPipeline { get; }

    /// <summary>Whether the task stream is open: false after it broke (the next task opens a new one), and without one.</summary>
    public abstract bool IsOpen { get; }

    /// <summary>Runs one task and waits for its result; see <see cref="HostShim.InvokeAsync"/>.</summary>
    public abstract Task<V1.TaskResult> InvokeAsync(V1.TaskContext context, DateTime? deadline, CancellationToken cancellationToken);

    /// <summary>Runs a task with the next one sent behind it; see <see cref="HostShim.InvokePipelinedAsync"/>.</summary>
    public virtual Task<(V1.TaskResult Result, bool BehindSent)> InvokePipelinedAsync(
        V1.TaskContext? task, V1.TaskContext? behind, DateTime? deadline, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"the service's tasks go through {Name}: they cannot be sent ahead");

    /// <summary>Ends the stream in order (the service sees its tasks end), if one is open.</summary>
    public virtual Task CloseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Drops the stream at once, if one is open.</summary>
    public virtual void Drop()
    {
    }

    /// <summary>
    /// Asks the service whether it serves the task stream without giving it a task: opens <c>InvokeTasks</c> and
    /// waits for the response headers, sending nothing. Flame.Orleans's SDK sends its headers as soon as the stream
    /// opens, marked with <see cref="V1.TaskStreamProtocol.Header"/>; a service that serves only
    /// <c>flame.v1.Instance</c> answers with the status UNIMPLEMENTED instead (some servers send unmarked headers
    /// first), and usually resets the stream right after. Since no task is on the stream, nothing is lost whatever the answer,
    /// and a reset is never taken for a dead service: the stream is chosen only on the marked headers, OnTaskInvoke on anything
    /// else (UNIMPLEMENTED, any other status, no answer within <see cref="ProbeTimeout"/>). A service that is really
    /// dead fails its first OnTaskInvoke, where the executor tells death from a refusal as for any task. The probe's
    /// stream, once answered, carries the first tasks.
    /// </summary>
    /// <remarks>
    /// Why not gRPC reflection or a unary probe method: a Flame service serves neither (reflection is not a part of
    /// Flame's SDKs, and a new method would only exist on our side), so their absence would say nothing about the
    /// stream; the headers of the stream itself are the one answer that is exact for both kinds of service.
    /// </remarks>
    /// <param name="channel">The service's channel.</param>
    /// <param name="cancellationToken">The lifetime of the probe's stream, which then carries the tasks.</param>
    public static async Task<TaskChannel> ChooseAsync(GrpcChannel channel, CancellationToken cancellationToken)
    {
        var instance = new V1.Instance.InstanceClient(channel);
        var ext = new V1.InstanceExt.InstanceExtClient(channel);
        var call = ext.InvokeTasks(cancellationToken: cancellationToken);
        string reason;
        try
        {
            var headers = await call.ResponseHeadersAsync.WaitAsync(ProbeTimeout, cancellationToken).ConfigureAwait(false);
            if (headers.GetValue(V1.TaskStreamProtocol.Header) == V1.TaskStreamProtocol.Value)
                return new StreamTaskChannel(ext, call) { Reason = "the service answered the task stream's probe" };
            // A refusal may come as headers too: "trailers-only" (they carry the status and end the call), or headers
            // without the mark with the status right behind (Kestrel's UNIMPLEMENTED): waited for briefly, only to
            // say which in the log, since the choice is made.
            reason = Ended(call) is { } status
                ? Refused(status)
                : await EndOfRefusalAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            reason = Refused(ex.Status);
        }
        catch (TimeoutException)
        {
            reason = $"the service did not answer the task stream's probe within {ProbeTimeout.TotalSeconds:0.###}s";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The channel reports a reset stream as a cancellation (ThrowOperationCanceledOnCancellation).
            reason = "the service reset the task stream's probe";
        }
        catch
        {
            call.Dispose();
            throw;
        }
        call.Dispose();
        return new UnaryTaskChannel(instance) { Reason = reason };
    }

    /// <summary>Why a call that answered with unmarked headers is not the task stream: its status, if it ends soon.</summary>
    private static async Task<string> EndOfRefusalAsync(
        AsyncDuplexStreamingCall<V1.TaskContext, V1.TaskResult> call, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RefusalWait);
        try
        {
            // No task was sent: a serving stream has nothing to answer, so this ends only with the call.
            await call.ResponseStream.MoveNext(limit.Token).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            return Refused(ex.Status);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // It did not end: a stream that is not ours.
        }
        return $"the service answered the task stream's probe without the {V1.TaskStreamProtocol.Header} header";
    }

    /// <summary>The status of a call that has ended, or null while it runs.</summary>
    private static Status? Ended(AsyncDuplexStreamingCall<V1.TaskContext, V1.TaskResult> call)
    {
        try
        {
            return call.GetStatus();
        }
        catch (InvalidOperationException)
        {
            // The call goes on: the status is only there once it has ended.
            return null;
        }
    }

    private static string Refused(Status status) => status.StatusCode == StatusCode.Unimplemented
        ? "the service does not serve flame.v1.InstanceExt (UNIMPLEMENTED)"
        : $"the task stream's probe ended with {status.StatusCode}: {status.Detail}";

    /// <summary>A token source cancelled at <paramref name="deadline"/> or with <paramref name="cancellationToken"/>; null without a deadline.</summary>
    private protected static CancellationTokenSource? Limit(DateTime? deadline, CancellationToken cancellationToken)
    {
        if (deadline is null)
            return null;
        var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var left = deadline.Value - DateTime.UtcNow;
        limit.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        return limit;
    }

    /// <summary>The tasks of a binding over one InvokeTasks stream, opened again after a break.</summary>
    private sealed class StreamTaskChannel(V1.InstanceExt.InstanceExtClient ext, AsyncDuplexStreamingCall<V1.TaskContext, V1.TaskResult> probed)
        : TaskChannel
    {
        private readonly ExchangeStream<V1.TaskContext, V1.TaskResult> _tasks =
            new(token => ext.InvokeTasks(cancellationToken: token), opened: probed);

        public override string Name => "stream";

        public override bool CanPipeline => true;

        public override bool IsOpen => _tasks.IsOpen;

        public override async Task<V1.TaskResult> InvokeAsync(V1.TaskContext context, DateTime? deadline, CancellationToken cancellationToken)
        {
            using var limit = Limit(deadline, cancellationToken);
            return await _tasks.ExchangeAsync(context, cancellationToken, limit?.Token ?? cancellationToken).ConfigureAwait(false);
        }

        public override async Task<(V1.TaskResult Result, bool BehindSent)> InvokePipelinedAsync(
            V1.TaskContext? task, V1.TaskContext? behind, DateTime? deadline, CancellationToken cancellationToken)
        {
            using var limit = Limit(deadline, cancellationToken);
            var token = limit?.Token ?? cancellationToken;
            if (task is not null)
                await _tasks.SendAsync(task, cancellationToken, token).ConfigureAwait(false);
            var behindSent = false;
            if (behind is not null)
            {
                try
                {
                    await _tasks.SendAsync(behind, cancellationToken, token).ConfigureAwait(false);
                    behindSent = true;
                }
                catch (RpcException)
                {
                    // The stream broke: the receive below fails for the running task, and the one behind goes again.
                }
            }
            return (await _tasks.ReceiveAsync(token).ConfigureAwait(false), behindSent);
        }

        public override Task CloseAsync(CancellationToken cancellationToken) => _tasks.CloseAsync(cancellationToken);

        public override void Drop() => _tasks.Drop();
    }

    /// <summary>One OnTaskInvoke call per task: the standard flame.v1 way, which every service serves.</summary>
    private sealed class UnaryTaskChannel(V1.Instance.InstanceClient instance) : TaskChannel
    {
        public override string Name => "OnTaskInvoke";

        public override bool CanPipeline => false;

        public override bool IsOpen => false;

        public override async Task<V1.TaskResult> InvokeAsync(V1.TaskContext context, DateTime? deadline, CancellationToken cancellationToken)
        {
            try
            {
                return await instance.OnTaskInvokeAsync(context, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && !(deadline <= DateTime.UtcNow)
                                       && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // Neither our cancellation nor the deadline: the service process reset the call or its connection broke
                // (the channel reports that as a cancellation). As on the task stream, that is a lost service, for the
                // executor's crash path (a system failure, the service restarted), not a timeout or a binding fault.
                throw new RpcException(new Status(StatusCode.Unavailable, "lost the connection to the service process", ex));
            }
        }
    }
}
