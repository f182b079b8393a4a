using Flame.Grains.Hosting;
using Flame.Grains.Sessions;
using Flame.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flame.Grains.Applications;

/// <summary>
/// All registered applications, kept in the task store (written before a change is acknowledged) and in memory.
/// See <see cref="IApplicationRegistryGrain"/>.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ApplicationRegistryGrain(
    ITaskStore store, TimeProvider clock, IOptions<FlameLimitsOptions> limits, ILogger<ApplicationRegistryGrain> logger)
    : Grain, IApplicationRegistryGrain
{
    private readonly SortedDictionary<string, ApplicationInfo> _applications = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var stored in await store.LoadApplicationsAsync(cancellationToken))
            _applications[stored.Name] = StoredForms.Read<ApplicationInfo>(stored.Json);
    }

    public async Task<ApplicationInfo> RegisterAsync(string name, ApplicationSpec spec)
    {
        ApplicationSpecs.Validate(name, spec, limits.Value);
        if (_applications.ContainsKey(name))
            throw FlameException.AlreadyExists($"application '{name}' is already registered");
        var info = new ApplicationInfo
        {
            Name = name,
            Spec = spec,
            State = ApplicationState.Enabled,
            CreationTime = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        await SaveAsync(info);
        LogRegistered(name);
        return info;
    }

    public async Task<ApplicationInfo> UpdateAsync(string name, ApplicationSpec spec)
    {
        ApplicationSpecs.Validate(name, spec, limits.Value);
        var updated = Existing(name) with { Spec = spec };
        await RefuseWhileOpenAsync(name, "update");
        await SaveAsync(updated);
        return updated;
    }

    public async Task UnregisterAsync(string name)
    {
        Existing(name);
        await RefuseWhileOpenAsync(name, "unregister");
        await StoredForms.Durably(store.DeleteApplicationAsync(name));
        _applications.Remove(name);
        LogUnregistered(name);
    }

    /// <summary>
    /// As Flame: an application with open sessions is neither changed nor removed (Flame's words). A rare administrative
    /// call, so asking each open session is affordable; a session closed meanwhile no longer counts.
    /// </summary>
    private async Task RefuseWhileOpenAsync(string name, string verb)
    {
        var open = 0;
        foreach (var id in await store.LoadSessionIdsAsync(openOnly: true))
        {
            try
            {
                var session = await GrainFactory.GetGrain<ISessionGrain>(id).GetAsync();
                if (session.Spec.Application == name && session.Status.State == SessionState.Open)
                    open++;
            }
            catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
            {
                // Deleted since the store listed it.
            }
        }
        if (open > 0)
            throw FlameException.FailedPrecondition($"Cannot {verb} application '{name}': has open sessions ({open})");
    }

    /// <summary>Durable first, then visible: a change the store refused is not made.</summary>
    private async Task SaveAsync(ApplicationInfo info)
    {
        await StoredForms.Durably(store.SaveApplicationAsync(new StoredApplication { Name = info.Name, Json = StoredForms.Write(info) }));
        _applications[info.Name] = info;
    }

    public Task<ApplicationInfo> GetAsync(string name) => Task.FromResult(Existing(name));

    public Task<IReadOnlyList<ApplicationInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<ApplicationInfo>>(_applications.Values.ToArray());

    private ApplicationInfo Existing(string name)
    {
        FlameIds.ValidateApplicationName(name);
        return _applications.TryGetValue(name, out var info)
            ? info
            : throw FlameException.NotFound($"application '{name}' not found");
    }
}

/// <summary>Validation of application specs.</summary>
internal static class ApplicationSpecs
{
    /// <summary>Throws InvalidArgument naming the first thing wrong.</summary>
    public static void Validate(string name, ApplicationSpec spec, FlameLimitsOptions limits)
    {
        // No command is accepted, as in Flame: its sessions open, and binding them fails with rc 11 (event 1001).
        FlameIds.ValidateApplicationName(name);
        if (spec.MaxInstances is 0)
            throw FlameException.InvalidArgument($"application '{name}' has max_instances 0; leave it unset for no limit, or give at least 1");
        if (spec.DelayRelease is < 0)
            throw FlameException.InvalidArgument($"application '{name}' has a negative delay_release ({spec.DelayRelease})");
        // Sizes, characters, the shim: the shape of every field.
        ApplicationFields.Validate(name, spec, limits);
    }
}
