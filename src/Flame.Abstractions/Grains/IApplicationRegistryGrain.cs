using Orleans.Concurrency;

namespace Flame.Grains;

/// <summary>All registered applications. One activation, key <see cref="Key"/>: applications are few and read at session creation only.</summary>
[Alias("flame.IApplicationRegistryGrain")]
public interface IApplicationRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>The key of the one registry.</summary>
    public const long Key = 0;

    /// <summary>Registers a new application; AlreadyExists if the name is taken.</summary>
    [Alias("Register")] Task<ApplicationInfo> RegisterAsync(string name, ApplicationSpec spec);
    /// <summary>Replaces an application's spec; NotFound if unknown, FailedPrecondition while it has open sessions (as Flame).</summary>
    [Alias("Update")] Task<ApplicationInfo> UpdateAsync(string name, ApplicationSpec spec);
    /// <summary>Removes an application; NotFound if unknown, FailedPrecondition while it has open sessions (as Flame).</summary>
    [Alias("Unregister")] Task UnregisterAsync(string name);
    /// <summary>
    /// One application; NotFound if unknown. Interleaved: a session being created asks for its application while the
    /// registry may be asking the open sessions whether they belong to an application it updates.
    /// </summary>
    [AlwaysInterleave, Alias("Get")] Task<ApplicationInfo> GetAsync(string name);
    /// <summary>Every application, by name.</summary>
    [Alias("List")] Task<IReadOnlyList<ApplicationInfo>> ListAsync();
}
