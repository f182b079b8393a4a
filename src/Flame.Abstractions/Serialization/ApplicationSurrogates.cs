namespace Flame.Serialization;

// How Orleans serializes the application records of Flame.Model; see SessionSurrogates.cs.

/// <summary>The Orleans form of <see cref="ResourceRequirement"/>.</summary>
[GenerateSerializer, Alias("flame.ResourceRequirement.Surrogate")]
public struct ResourceRequirementSurrogate
{
    [Id(0)] public ulong Cpu;
    [Id(1)] public ulong Memory;
    [Id(2)] public int Gpu;
}

/// <summary>Converts and copies <see cref="ResourceRequirement"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class ResourceRequirementConverter : ImmutableCopier<ResourceRequirement>, IConverter<ResourceRequirement, ResourceRequirementSurrogate>
{
    /// <inheritdoc />
    public ResourceRequirement ConvertFromSurrogate(in ResourceRequirementSurrogate s) => new() { Cpu = s.Cpu, Memory = s.Memory, Gpu = s.Gpu };

    /// <inheritdoc />
    public ResourceRequirementSurrogate ConvertToSurrogate(in ResourceRequirement v) => new() { Cpu = v.Cpu, Memory = v.Memory, Gpu = v.Gpu };
}

/// <summary>The Orleans form of <see cref="EnvironmentVariable"/>.</summary>
[GenerateSerializer, Alias("flame.EnvironmentVariable.Surrogate")]
public struct EnvironmentVariableSurrogate
{
    [Id(0)] public string Name;
    [Id(1)] public string Value;
}

/// <summary>Converts and copies <see cref="EnvironmentVariable"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class EnvironmentVariableConverter : ImmutableCopier<EnvironmentVariable>, IConverter<EnvironmentVariable, EnvironmentVariableSurrogate>
{
    /// <inheritdoc />
    public EnvironmentVariable ConvertFromSurrogate(in EnvironmentVariableSurrogate s) => new() { Name = s.Name, Value = s.Value ?? "" };

    /// <inheritdoc />
    public EnvironmentVariableSurrogate ConvertToSurrogate(in EnvironmentVariable v) => new() { Name = v.Name, Value = v.Value };
}

/// <summary>The Orleans form of <see cref="ApplicationSchema"/>.</summary>
[GenerateSerializer, Alias("flame.ApplicationSchema.Surrogate")]
public struct ApplicationSchemaSurrogate
{
    [Id(0)] public string? Input;
    [Id(1)] public string? Output;
    [Id(2)] public string? CommonData;
}

/// <summary>Converts and copies <see cref="ApplicationSchema"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class ApplicationSchemaConverter : ImmutableCopier<ApplicationSchema>, IConverter<ApplicationSchema, ApplicationSchemaSurrogate>
{
    /// <inheritdoc />
    public ApplicationSchema ConvertFromSurrogate(in ApplicationSchemaSurrogate s) =>
        new() { Input = s.Input, Output = s.Output, CommonData = s.CommonData };

    /// <inheritdoc />
    public ApplicationSchemaSurrogate ConvertToSurrogate(in ApplicationSchema v) =>
        new() { Input = v.Input, Output = v.Output, CommonData = v.CommonData };
}

/// <summary>The Orleans form of <see cref="ApplicationSpec"/>.</summary>
[GenerateSerializer, Alias("flame.ApplicationSpec.Surrogate")]
public struct ApplicationSpecSurrogate
{
    [Id(0)] public Shim Shim;
    [Id(1)] public string? Description;
    [Id(2)] public IReadOnlyList<string> Labels;
    [Id(3)] public string? Image;
    [Id(4)] public string? Command;
    [Id(5)] public IReadOnlyList<string> Arguments;
    [Id(6)] public IReadOnlyList<EnvironmentVariable> Environments;
    [Id(7)] public string? WorkingDirectory;
    [Id(8)] public uint? MaxInstances;
    [Id(9)] public long? DelayRelease;
    [Id(10)] public ApplicationSchema? Schema;
    [Id(11)] public string? Url;
    [Id(12)] public string? Installer;
}

/// <summary>Converts and copies <see cref="ApplicationSpec"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class ApplicationSpecConverter : ImmutableCopier<ApplicationSpec>, IConverter<ApplicationSpec, ApplicationSpecSurrogate>
{
    /// <inheritdoc />
    public ApplicationSpec ConvertFromSurrogate(in ApplicationSpecSurrogate s) => new()
    {
        Shim = s.Shim,
        Description = s.Description,
        Labels = s.Labels ?? [],
        Image = s.Image,
        Command = s.Command,
        Arguments = s.Arguments ?? [],
        Environments = s.Environments ?? [],
        WorkingDirectory = s.WorkingDirectory,
        MaxInstances = s.MaxInstances,
        DelayRelease = s.DelayRelease,
        Schema = s.Schema,
        Url = s.Url,
        Installer = s.Installer,
    };

    /// <inheritdoc />
    public ApplicationSpecSurrogate ConvertToSurrogate(in ApplicationSpec v) => new()
    {
        Shim = v.Shim,
        Description = v.Description,
        Labels = v.Labels,
        Image = v.Image,
        Command = v.Command,
        Arguments = v.Arguments,
        Environments = v.Environments,
        WorkingDirectory = v.WorkingDirectory,
        MaxInstances = v.MaxInstances,
        DelayRelease = v.DelayRelease,
        Schema = v.Schema,
        Url = v.Url,
        Installer = v.Installer,
    };
}

/// <summary>The Orleans form of <see cref="ApplicationInfo"/>.</summary>
[GenerateSerializer, Alias("flame.ApplicationInfo.Surrogate")]
public struct ApplicationInfoSurrogate
{
    [Id(0)] public string Name;
    [Id(1)] public ApplicationSpec Spec;
    [Id(2)] public ApplicationState State;
    [Id(3)] public long CreationTime;
}

/// <summary>Converts and copies <see cref="ApplicationInfo"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class ApplicationInfoConverter : ImmutableCopier<ApplicationInfo>, IConverter<ApplicationInfo, ApplicationInfoSurrogate>
{
    /// <inheritdoc />
    public ApplicationInfo ConvertFromSurrogate(in ApplicationInfoSurrogate s) =>
        new() { Name = s.Name, Spec = s.Spec, State = s.State, CreationTime = s.CreationTime };

    /// <inheritdoc />
    public ApplicationInfoSurrogate ConvertToSurrogate(in ApplicationInfo v) =>
        new() { Name = v.Name, Spec = v.Spec, State = v.State, CreationTime = v.CreationTime };
}
