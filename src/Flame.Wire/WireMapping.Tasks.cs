using Google.Protobuf;

namespace Flame.Wire;

// Tasks: new task specs, inputs and outputs, tasks.
public static partial class WireMapping
{
    /// <summary>A wire task spec for a new task of <paramref name="sessionId"/>; <c>input</c> is set only when non-null.</summary>
    public static V1.TaskSpec NewTaskSpec(string sessionId, byte[]? input)
    {
        var spec = new V1.TaskSpec { SessionId = sessionId ?? "" };
        if (input is not null) spec.Input = UnsafeByteOperations.UnsafeWrap(input);
        return spec;
    }

    /// <summary>The input of a wire task spec, or null when it has none.</summary>
    public static byte[]? GetInputOrNull(this V1.TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.HasInput ? spec.Input.ToByteArray() : null;
    }

    /// <summary>The output of a wire task result, or null when it has none.</summary>
    public static byte[]? GetOutputOrNull(this V1.TaskResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.HasOutput ? result.Output.ToByteArray() : null;
    }

    /// <summary>The wire form of a task: metadata id and name are both the decimal task id; the spec carries the session id.</summary>
    public static V1.Task ToWire(this TaskInfo task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var id = FlameIds.FormatTaskId(task.Id);
        var spec = new V1.TaskSpec { SessionId = task.SessionId ?? "" };
        if (task.Input is not null) spec.Input = UnsafeByteOperations.UnsafeWrap(task.Input);
        if (task.Output is not null) spec.Output = UnsafeByteOperations.UnsafeWrap(task.Output);
        var status = new V1.TaskStatus { State = task.State.ToWire(), CreationTime = task.CreationTime };
        if (task.CompletionTime is { } completed) status.CompletionTime = completed;
        AddEvents(status.Events, task.Events);
        return new V1.Task
        {
            Metadata = new V1.Metadata { Id = id, Name = id },
            Spec = spec,
            Status = status,
        };
    }

    /// <summary>The domain form of a task; InvalidArgument if its id is not a positive decimal number.</summary>
    public static TaskInfo ToDomain(this V1.Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var spec = task.Spec;
        var status = task.Status;
        return new TaskInfo
        {
            Id = FlameIds.ParseTaskId(IdOf(task.Metadata)),
            SessionId = spec?.SessionId ?? "",
            State = status?.State.ToDomain() ?? TaskState.Pending,
            Input = spec is { HasInput: true } ? spec.Input.ToByteArray() : null,
            Output = spec is { HasOutput: true } ? spec.Output.ToByteArray() : null,
            CreationTime = status?.CreationTime ?? 0,
            CompletionTime = status is { HasCompletionTime: true } ? status.CompletionTime : null,
            Events = status is null ? [] : Map(status.Events, static e => e.ToDomain()),
        };
    }
}
