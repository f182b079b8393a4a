using Flame.Grains.Hosting;

namespace Flame.Grains.Sessions;

/// <summary>Validation and comparison of session specs.</summary>
internal static class SessionSpecs
{
    /// <summary>Throws InvalidArgument naming the first thing wrong with <paramref name="spec"/>.</summary>
    public static void Validate(SessionSpec spec, FlameLimitsOptions limits)
    {
        FlameIds.ValidateApplicationName(spec.Application);
        if (spec.CommonData is { Length: var size } && size > limits.MaxCommonDataBytes)
            throw FlameException.InvalidArgument(
                $"common data is {size} bytes; the limit is {limits.MaxCommonDataBytes} (Flame:Limits:MaxCommonDataBytes)");
        if (spec.MaxInstances is 0)
            throw FlameException.InvalidArgument("max_instances is 0; leave it unset for no limit, or give at least 1");
        if (spec.MaxInstances is { } max && spec.MinInstances > max)
            throw FlameException.InvalidArgument($"min_instances ({spec.MinInstances}) is greater than max_instances ({max})");
    }

    /// <summary>The name of the first field in which the two specs differ, or null if they agree.</summary>
    public static string? FirstDifference(SessionSpec existing, SessionSpec requested)
    {
        if (existing.Application != requested.Application) return "application";
        if (!BytesEqual(existing.CommonData, requested.CommonData)) return "common_data";
        if (existing.MinInstances != requested.MinInstances) return "min_instances";
        if (existing.MaxInstances != requested.MaxInstances) return "max_instances";
        if (existing.BatchSize != requested.BatchSize) return "batch_size";
        if (existing.Priority != requested.Priority) return "priority";
        if (existing.ResReq != requested.ResReq) return "resreq";
        return null;
    }

    private static bool BytesEqual(byte[]? a, byte[]? b) =>
        (a is null || a.Length == 0) ? (b is null || b.Length == 0) : b is not null && a.AsSpan().SequenceEqual(b);
}
