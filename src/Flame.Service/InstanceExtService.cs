using Grpc.Core;

namespace Flame.Service;

/// <summary>
/// <c>flame.v1.InstanceExt</c>: the tasks of a binding over one stream, each run exactly as
/// <see cref="InstanceService.OnTaskInvoke"/> runs it; executor managers that do not know the extension call
/// <c>OnTaskInvoke</c> instead.
/// </summary>
internal sealed class InstanceExtService(InstanceService instance) : V1.InstanceExt.InstanceExtBase
{
    public override async Task InvokeTasks(
        IAsyncStreamReader<V1.TaskContext> requestStream, IServerStreamWriter<V1.TaskResult> responseStream, ServerCallContext context)
    {
        // The headers go out before any task, marked: an executor manager waits for them, sending nothing, to know that
        // this process serves the stream (a service without it answers UNIMPLEMENTED) before it trusts it with a task.
        await context.WriteResponseHeadersAsync(new Metadata { { V1.TaskStreamProtocol.Header, V1.TaskStreamProtocol.Value } }).ConfigureAwait(false);
        using var cancellation = instance.Link(context);
        var token = cancellation.Token;
        // One task at a time, in order: the executor manager may send the next task while this one runs, and counts
        // on it not starting before this one's result is written.
        while (await requestStream.MoveNext(token).ConfigureAwait(false))
        {
            var result = await instance.InvokeAsync(requestStream.Current, token).ConfigureAwait(false);
            await responseStream.WriteAsync(result, token).ConfigureAwait(false);
        }
    }
}
