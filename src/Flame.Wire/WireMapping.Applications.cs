namespace Flame.Wire;

// Applications: specs, applications and their lists.
public static partial class WireMapping
{
    /// <summary>The wire form of an application spec.</summary>
    public static V1.ApplicationSpec ToWire(this ApplicationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var wire = new V1.ApplicationSpec { Shim = spec.Shim.ToWire() };
        if (spec.Description is not null) wire.Description = spec.Description;
        wire.Labels.Add(spec.Labels);
        if (spec.Image is not null) wire.Image = spec.Image;
        if (spec.Command is not null) wire.Command = spec.Command;
        wire.Arguments.Add(spec.Arguments);
        foreach (var env in spec.Environments)
            wire.Environments.Add(env.ToWire());
        if (spec.WorkingDirectory is not null) wire.WorkingDirectory = spec.WorkingDirectory;
        if (spec.MaxInstances is { } max) wire.MaxInstances = max;
        if (spec.DelayRelease is { } delay) wire.DelayRelease = delay;
        if (spec.Schema is not null) wire.Schema = spec.Schema.ToWire();
        if (spec.Url is not null) wire.Url = spec.Url;
        if (spec.Installer is not null) wire.Installer = spec.Installer;
        return wire;
    }

    /// <summary>The domain form of an application spec.</summary>
    public static ApplicationSpec ToDomain(this V1.ApplicationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new ApplicationSpec
        {
            Shim = spec.Shim.ToDomain(),
            Description = spec.HasDescription ? spec.Description : null,
            Labels = [.. spec.Labels],
            Image = spec.HasImage ? spec.Image : null,
            Command = spec.HasCommand ? spec.Command : null,
            Arguments = [.. spec.Arguments],
            Environments = Map(spec.Environments, static e => e.ToDomain()),
            WorkingDirectory = spec.HasWorkingDirectory ? spec.WorkingDirectory : null,
            MaxInstances = spec.HasMaxInstances ? spec.MaxInstances : null,
            DelayRelease = spec.HasDelayRelease ? spec.DelayRelease : null,
            Schema = spec.Schema?.ToDomain(),
            Url = spec.HasUrl ? spec.Url : null,
            Installer = spec.HasInstaller ? spec.Installer : null,
        };
    }

    /// <summary>The wire form of an application: metadata id and name are both its name.</summary>
    public static V1.Application ToWire(this ApplicationInfo app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var name = app.Name ?? "";
        return new V1.Application
        {
            Metadata = new V1.Metadata { Id = name, Name = name },
            Spec = (app.Spec ?? new ApplicationSpec()).ToWire(),
            Status = new V1.ApplicationStatus { State = app.State.ToWire(), CreationTime = app.CreationTime },
        };
    }

    /// <summary>The domain form of an application.</summary>
    public static ApplicationInfo ToDomain(this V1.Application app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return new ApplicationInfo
        {
            Name = NameOf(app.Metadata),
            Spec = app.Spec?.ToDomain() ?? new ApplicationSpec(),
            State = app.Status?.State.ToDomain() ?? ApplicationState.Enabled,
            CreationTime = app.Status?.CreationTime ?? 0,
        };
    }

    /// <summary>The wire list of <paramref name="apps"/>, in their order.</summary>
    public static V1.ApplicationList ToWire(this IEnumerable<ApplicationInfo> apps)
    {
        ArgumentNullException.ThrowIfNull(apps);
        var list = new V1.ApplicationList();
        foreach (var app in apps)
            list.Applications.Add(app.ToWire());
        return list;
    }
}
