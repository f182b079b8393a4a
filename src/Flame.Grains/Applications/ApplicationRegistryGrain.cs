using Microsoft.Extensions.Logging;

namespace Flame.Grains.Applications;

/// <summary>All registered applications. See <see cref="IApplicationRegistryGrain"/>.</summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ApplicationRegistryGrain(TimeProvider clock, ILogger<ApplicationRegistryGrain> logger)
    : Grain, IApplicationRegistryGrain
{
    private readonly SortedDictionary<string, ApplicationInfo> _applications = new(StringComparer.Ordinal);

    public Task<ApplicationInfo> RegisterAsync(string name, ApplicationSpec spec)
    {
        ApplicationSpecs.Validate(name, spec);
        if (_applications.ContainsKey(name))
            throw FlameException.AlreadyExists($"application '{name}' is already registered");
        var info = new ApplicationInfo
        {
            Name = name,
            Spec = spec,
            State = ApplicationState.Enabled,
            CreationTime = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        _applications[name] = info;
        LogRegistered(name);
        return Task.FromResult(info);
    }

    public Task<ApplicationInfo> UpdateAsync(string name, ApplicationSpec spec)
    {
        ApplicationSpecs.Validate(name, spec);
        var updated = Existing(name) with { Spec = spec };
        _applications[name] = updated;
        return Task.FromResult(updated);
    }

    public Task UnregisterAsync(string name)
    {
        Existing(name);
        _applications.Remove(name);
        LogUnregistered(name);
        return Task.CompletedTask;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Application {Application} registered")]
    private partial void LogRegistered(string application);

    [LoggerMessage(Level = LogLevel.Information, Message = "Application {Application} unregistered")]
    private partial void LogUnregistered(string application);
}

/// <summary>Validation of application specs.</summary>
internal static class ApplicationSpecs
{
    /// <summary>Throws InvalidArgument naming the first thing wrong.</summary>
    public static void Validate(string name, ApplicationSpec spec)
    {
        FlameIds.ValidateApplicationName(name);
        if (spec.Shim == Shim.Host && string.IsNullOrWhiteSpace(spec.Command))
            throw FlameException.InvalidArgument($"application '{name}' has no command; a Host application needs the command that starts its service");
        if (spec.MaxInstances is 0)
            throw FlameException.InvalidArgument($"application '{name}' has max_instances 0; leave it unset for no limit, or give at least 1");
        if (spec.DelayRelease is < 0)
            throw FlameException.InvalidArgument($"application '{name}' has a negative delay_release ({spec.DelayRelease})");
        foreach (var variable in spec.Environments)
            if (string.IsNullOrEmpty(variable.Name) || variable.Name.Contains('='))
                throw FlameException.InvalidArgument($"application '{name}' has an environment variable with an invalid name '{variable.Name}'");
    }
}
