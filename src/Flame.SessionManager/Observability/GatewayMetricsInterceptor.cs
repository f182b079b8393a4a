using System.Diagnostics.Metrics;
using Flame.Grains.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Flame.SessionManager.Observability;

/// <summary>
/// Counts the gateway's calls by method and final status (<c>flame.gateway.calls</c>) and times them. Outermost, so
/// that it sees the status the client gets. The method's name is the one gRPC keeps for the call and each status's tag
/// is built once: a call allocates nothing here.
/// </summary>
internal sealed class GatewayMetricsInterceptor : Interceptor
{
    private static readonly Meter Meter = new(FlameMetrics.MeterName);

    private static readonly Counter<long> Calls = Meter.CreateCounter<long>(
        "flame.gateway.calls", "{call}", "gRPC calls the gateway answered, by method and status.");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram(
        "flame.gateway.call.duration", "s", "gRPC calls the gateway answered, by method: from the call to its status.",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        });

    private static readonly KeyValuePair<string, object?>[] Statuses =
        [.. Enumerable.Range(0, 17).Select(code => new KeyValuePair<string, object?>("status", ((StatusCode)code).ToString()))];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        TimedAsync(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        TimedAsync(context, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        TimedAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        TimedAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    private static async Task<T> TimedAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var status = StatusCode.Unknown;
        try
        {
            var result = await call();
            status = context.Status.StatusCode;
            return result;
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        catch (OperationCanceledException)
        {
            status = StatusCode.Cancelled;
            throw;
        }
        finally
        {
            Record(context, status, started);
        }
    }

    private static void Record(ServerCallContext context, StatusCode status, long started)
    {
        var method = new KeyValuePair<string, object?>("method", context.Method);
        var code = (int)status is >= 0 and < 17 ? Statuses[(int)status] : Statuses[(int)StatusCode.Unknown];
        Calls.Add(1, method, code);
        Duration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, method);
    }
}
