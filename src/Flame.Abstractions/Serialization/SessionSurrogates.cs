namespace Flame.Serialization;

// How Orleans serializes the session and task records of Flame.Model (which carries no Orleans attribute): a
// surrogate struct per record with the field ids the record had, and a converter that is also its (identity) copier.
// Keep the ids: a mixed-version cluster reads them.

/// <summary>The Orleans form of <see cref="FlameEvent"/>.</summary>
[GenerateSerializer, Alias("flame.Event.Surrogate")]
public struct FlameEventSurrogate
{
    [Id(0)] public int Code;
    [Id(1)] public string? Message;
    [Id(2)] public long CreationTime;
}

/// <summary>Converts and copies <see cref="FlameEvent"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class FlameEventConverter : ImmutableCopier<FlameEvent>, IConverter<FlameEvent, FlameEventSurrogate>
{
    /// <inheritdoc />
    public FlameEvent ConvertFromSurrogate(in FlameEventSurrogate s) =>
        new() { Code = s.Code, Message = s.Message, CreationTime = s.CreationTime };

    /// <inheritdoc />
    public FlameEventSurrogate ConvertToSurrogate(in FlameEvent v) =>
        new() { Code = v.Code, Message = v.Message, CreationTime = v.CreationTime };
}

/// <summary>The Orleans form of <see cref="SessionSpec"/>.</summary>
[GenerateSerializer, Alias("flame.SessionSpec.Surrogate")]
public struct SessionSpecSurrogate
{
    [Id(0)] public string Application;
    [Id(1)] public byte[]? CommonData;
    [Id(2)] public uint MinInstances;
    [Id(3)] public uint? MaxInstances;
    [Id(4)] public uint BatchSize;
    [Id(5)] public uint Priority;
    [Id(6)] public ResourceRequirement? ResReq;
    [Id(20)] public string? Owner;
}

/// <summary>Converts and copies <see cref="SessionSpec"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class SessionSpecConverter : ImmutableCopier<SessionSpec>, IConverter<SessionSpec, SessionSpecSurrogate>
{
    /// <inheritdoc />
    public SessionSpec ConvertFromSurrogate(in SessionSpecSurrogate s) => new()
    {
        Application = s.Application,
        CommonData = s.CommonData,
        MinInstances = s.MinInstances,
        MaxInstances = s.MaxInstances,
        BatchSize = s.BatchSize,
        Priority = s.Priority,
        ResReq = s.ResReq,
        Owner = s.Owner,
    };

    /// <inheritdoc />
    public SessionSpecSurrogate ConvertToSurrogate(in SessionSpec v) => new()
    {
        Application = v.Application,
        CommonData = v.CommonData,
        MinInstances = v.MinInstances,
        MaxInstances = v.MaxInstances,
        BatchSize = v.BatchSize,
        Priority = v.Priority,
        ResReq = v.ResReq,
        Owner = v.Owner,
    };
}

/// <summary>The Orleans form of <see cref="SessionStatus"/>.</summary>
[GenerateSerializer, Alias("flame.SessionStatus.Surrogate")]
public struct SessionStatusSurrogate
{
    [Id(0)] public SessionState State;
    [Id(1)] public long CreationTime;
    [Id(2)] public long? CompletionTime;
    [Id(3)] public int Pending;
    [Id(4)] public int Running;
    [Id(5)] public int Succeed;
    [Id(6)] public int Failed;
    [Id(7)] public int Cancelled;
    [Id(8)] public IReadOnlyList<FlameEvent> Events;
}

/// <summary>Converts and copies <see cref="SessionStatus"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class SessionStatusConverter : ImmutableCopier<SessionStatus>, IConverter<SessionStatus, SessionStatusSurrogate>
{
    /// <inheritdoc />
    public SessionStatus ConvertFromSurrogate(in SessionStatusSurrogate s) => new()
    {
        State = s.State,
        CreationTime = s.CreationTime,
        CompletionTime = s.CompletionTime,
        Pending = s.Pending,
        Running = s.Running,
        Succeed = s.Succeed,
        Failed = s.Failed,
        Cancelled = s.Cancelled,
        Events = s.Events ?? [],
    };

    /// <inheritdoc />
    public SessionStatusSurrogate ConvertToSurrogate(in SessionStatus v) => new()
    {
        State = v.State,
        CreationTime = v.CreationTime,
        CompletionTime = v.CompletionTime,
        Pending = v.Pending,
        Running = v.Running,
        Succeed = v.Succeed,
        Failed = v.Failed,
        Cancelled = v.Cancelled,
        Events = v.Events,
    };
}

/// <summary>The Orleans form of <see cref="SessionInfo"/>.</summary>
[GenerateSerializer, Alias("flame.SessionInfo.Surrogate")]
public struct SessionInfoSurrogate
{
    [Id(0)] public string Id;
    [Id(1)] public SessionSpec Spec;
    [Id(2)] public SessionStatus Status;
}

/// <summary>Converts and copies <see cref="SessionInfo"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class SessionInfoConverter : ImmutableCopier<SessionInfo>, IConverter<SessionInfo, SessionInfoSurrogate>
{
    /// <inheritdoc />
    public SessionInfo ConvertFromSurrogate(in SessionInfoSurrogate s) => new() { Id = s.Id, Spec = s.Spec, Status = s.Status };

    /// <inheritdoc />
    public SessionInfoSurrogate ConvertToSurrogate(in SessionInfo v) => new() { Id = v.Id, Spec = v.Spec, Status = v.Status };
}

/// <summary>The Orleans form of <see cref="TaskInfo"/>: the per-task hot path.</summary>
[GenerateSerializer, Alias("flame.TaskInfo.Surrogate")]
public struct TaskInfoSurrogate
{
    [Id(0)] public long Id;
    [Id(1)] public string SessionId;
    [Id(2)] public TaskState State;
    [Id(3)] public byte[]? Input;
    [Id(4)] public byte[]? Output;
    [Id(5)] public long CreationTime;
    [Id(6)] public long? CompletionTime;
    [Id(7)] public IReadOnlyList<FlameEvent> Events;
    [Id(8)] public long Launch;
}

/// <summary>Converts and copies <see cref="TaskInfo"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class TaskInfoConverter : ImmutableCopier<TaskInfo>, IConverter<TaskInfo, TaskInfoSurrogate>
{
    /// <inheritdoc />
    public TaskInfo ConvertFromSurrogate(in TaskInfoSurrogate s) => new()
    {
        Id = s.Id,
        SessionId = s.SessionId,
        State = s.State,
        Input = s.Input,
        Output = s.Output,
        CreationTime = s.CreationTime,
        CompletionTime = s.CompletionTime,
        Events = s.Events ?? [],
        Launch = s.Launch,
    };

    /// <inheritdoc />
    public TaskInfoSurrogate ConvertToSurrogate(in TaskInfo v) => new()
    {
        Id = v.Id,
        SessionId = v.SessionId,
        State = v.State,
        Input = v.Input,
        Output = v.Output,
        CreationTime = v.CreationTime,
        CompletionTime = v.CompletionTime,
        Events = v.Events,
        Launch = v.Launch,
    };
}

/// <summary>The Orleans form of <see cref="TaskPage"/>.</summary>
[GenerateSerializer, Alias("flame.TaskPage.Surrogate")]
public struct TaskPageSurrogate
{
    [Id(0)] public IReadOnlyList<TaskInfo> Tasks;
    [Id(1)] public long? NextAfterId;
}

/// <summary>Converts and copies <see cref="TaskPage"/>.</summary>
[RegisterConverter, RegisterCopier]
public sealed class TaskPageConverter : ImmutableCopier<TaskPage>, IConverter<TaskPage, TaskPageSurrogate>
{
    /// <inheritdoc />
    public TaskPage ConvertFromSurrogate(in TaskPageSurrogate s) => new() { Tasks = s.Tasks ?? [], NextAfterId = s.NextAfterId };

    /// <inheritdoc />
    public TaskPageSurrogate ConvertToSurrogate(in TaskPage v) => new() { Tasks = v.Tasks, NextAfterId = v.NextAfterId };
}

/// <summary>The Orleans form of <see cref="FlameException"/>: its kind and message (a grain's stack trace stays in its silo's log).</summary>
[GenerateSerializer, Alias("flame.FlameException.Surrogate")]
public struct FlameExceptionSurrogate
{
    [Id(0)] public FlameErrorKind Kind;
    [Id(1)] public string Message;
}

/// <summary>Converts <see cref="FlameException"/> (exceptions are copied by reference already).</summary>
[RegisterConverter]
public sealed class FlameExceptionConverter : IConverter<FlameException, FlameExceptionSurrogate>
{
    /// <inheritdoc />
    public FlameException ConvertFromSurrogate(in FlameExceptionSurrogate s) => new(s.Kind, s.Message ?? "");

    /// <inheritdoc />
    public FlameExceptionSurrogate ConvertToSurrogate(in FlameException v) => new() { Kind = v.Kind, Message = v.Message };
}
