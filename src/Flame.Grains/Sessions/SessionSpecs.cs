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

    /// <summary>
    /// The first field, with both values, in which <paramref name="requested"/> contradicts <paramref name="existing"/>;
    /// null if they agree. As Flame's <c>validate_spec</c>: application, resreq (both resolved), min_instances,
    /// max_instances and priority; common data and batch size may differ.
    /// </summary>
    public static (string Field, string Expected, string Got)? FirstDifference(SessionSpec existing, SessionSpec requested)
    {
        if (existing.Application != requested.Application) return ("application", existing.Application, requested.Application);
        if (existing.ResReq != requested.ResReq) return ("resreq", Show(existing.ResReq), Show(requested.ResReq));
        if (existing.MinInstances != requested.MinInstances) return ("min_instances", $"{existing.MinInstances}", $"{requested.MinInstances}");
        if (existing.MaxInstances != requested.MaxInstances) return ("max_instances", Show(existing.MaxInstances), Show(requested.MaxInstances));
        if (existing.Priority != requested.Priority) return ("priority", $"{existing.Priority}", $"{requested.Priority}");
        return null;
    }

    private static string Show(ResourceRequirement? r) => r is null ? "none" : ResourceRequirements.Format(r);

    private static string Show(uint? max) => max is { } m ? $"{m}" : "unlimited";
}
