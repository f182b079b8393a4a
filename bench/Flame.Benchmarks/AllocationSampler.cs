using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Flame.Benchmarks;

/// <summary>
/// A sampling allocation profile of this process from the runtime's GC AllocationTick events (one about every
/// 100 KB allocated, naming the type whose allocation crossed the mark): which types the allocated bytes go to.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    // Field initialisers run before the base constructor, which already calls OnEventSourceCreated.
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    /// <summary>The <paramref name="count"/> types with the most sampled bytes, with their share of all sampled bytes.</summary>
    public IReadOnlyList<(string Type, long Bytes, double Share)> Top(int count)
    {
        var total = (double)Math.Max(1, _bytes.Values.Sum());
        return _bytes.OrderByDescending(kv => kv.Value).Take(count)
            .Select(kv => (kv.Key, kv.Value, kv.Value / total)).ToList();
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null || e.Payload is null)
            return;
        var typeIndex = e.PayloadNames.IndexOf("TypeName");
        var amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
        if (amountIndex < 0)
            amountIndex = e.PayloadNames.IndexOf("AllocationAmount");
        if (typeIndex < 0 || amountIndex < 0)
            return;
        var type = e.Payload[typeIndex] as string ?? "?";
        var amount = Convert.ToInt64(e.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}
