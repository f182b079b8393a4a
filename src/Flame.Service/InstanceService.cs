using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flame.Service;

/// <summary>
/// <c>flame.v1.Instance</c> over a <see cref="FlameService"/>: maps the wire to the SDK's types and every
/// exception to a failed result, so a faulty task never turns into a gRPC error or a dead process.
/// </summary>
internal sealed partial class InstanceService(
    FlameService service,
    IHostApplicationLifetime lifetime,
    ILogger<InstanceService> logger) : V1.Instance.InstanceBase
{
    public override async Task<V1.Result> OnSessionEnter(V1.SessionContext request, ServerCallContext context)
    {
        var session = new SessionContext(
            request.SessionId,
            request.Application?.Name ?? "",
            request.HasCommonData ? ToArray(request.CommonData) : null);
        using var cancellation = Link(context);
        try
        {
            await service.OnSessionEnterAsync(session, cancellation.Token).ConfigureAwait(false);
            return new V1.Result { ReturnCode = 0 };
        }
        catch (Exception ex)
        {
            var (code, message) = Describe(ex);
            LogSessionEnterFailed(ex, request.SessionId);
            return new V1.Result { ReturnCode = code, Message = message };
        }
    }

    public override async Task<V1.TaskResult> OnTaskInvoke(V1.TaskContext request, ServerCallContext context)
    {
        using var cancellation = Link(context);
        return await InvokeAsync(request, cancellation.Token).ConfigureAwait(false);
    }

    /// <summary>One task: its output, or a failed result for any exception the service throws.</summary>
    internal async Task<V1.TaskResult> InvokeAsync(V1.TaskContext request, CancellationToken cancellationToken)
    {
        var task = new TaskContext(request.TaskId, request.SessionId, request.HasInput ? ToArray(request.Input) : null);
        try
        {
            var output = await service.OnTaskInvokeAsync(task, cancellationToken).ConfigureAwait(false);
            var result = new V1.TaskResult { ReturnCode = 0 };
            if (output is not null)
                result.Output = UnsafeByteOperations.UnsafeWrap(output); // documented: the service hands the array over
            return result;
        }
        catch (Exception ex)
        {
            var (code, message) = Describe(ex);
            if (ex is not FlameTaskException)
                LogTaskFailed(ex, request.SessionId, request.TaskId);
            return new V1.TaskResult { ReturnCode = code, Message = message };
        }
    }

    public override async Task<V1.Result> OnSessionLeave(V1.EmptyRequest request, ServerCallContext context)
    {
        using var cancellation = Link(context);
        try
        {
            await service.OnSessionLeaveAsync(cancellation.Token).ConfigureAwait(false);
            return new V1.Result { ReturnCode = 0 };
        }
        catch (Exception ex)
        {
            var (code, message) = Describe(ex);
            LogSessionLeaveFailed(ex);
            return new V1.Result { ReturnCode = code, Message = message };
        }
    }

    // The caller giving up and the process being stopped both cancel the service's work.
    internal CancellationTokenSource Link(ServerCallContext context) =>
        CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);

    internal static (int Code, string Message) Describe(Exception ex) => ex switch
    {
        FlameTaskException flame => (flame.ReturnCode, flame.Message),
        _ => (1, $"{ex.GetType().Name}: {ex.Message}"),
    };

    // A parsed ByteString normally owns an exact-size array: hand it over instead of copying.
    private static byte[] ToArray(ByteString bytes) =>
        MemoryMarshal.TryGetArray(bytes.Memory, out var segment)
            && segment.Array is { } array && segment.Offset == 0 && segment.Count == array.Length
            ? array
            : bytes.ToByteArray();
}
