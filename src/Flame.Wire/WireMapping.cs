using Google.Protobuf.Collections;

namespace Flame.Wire;

/// <summary>
/// The one mapping between the domain records (<c>Flame.*</c>) and the <c>flame.v1</c> wire messages
/// (<c>Flame.V1.*</c>), both ways: <c>ToWire()</c> on a domain value, <c>ToDomain()</c> on a wire message.
/// </summary>
/// <remarks>
/// <para>Metadata: an application's and a node's <c>id</c> and <c>name</c> are both its name; a session's are
/// both its id; a task's are both its decimal id; an executor's are both its id. Reading, the
/// <c>id</c> is preferred for sessions, tasks and executors and the <c>name</c> for applications and
/// nodes, each falling back to the other when empty.</para>
/// <para>Optional wire fields are set only when the domain value is non-null, and read as null when
/// absent. Bytes are wrapped without a copy going to the wire (the domain records are immutable, so
/// the arrays must not be changed afterwards) and copied coming from it.</para>
/// <para>Enums have the same numbers on both sides and are cast.</para>
/// </remarks>
public static partial class WireMapping
{
    // ---------------------------------------------------------------- enums

    /// <summary>The wire form of a session state.</summary>
    public static V1.SessionState ToWire(this SessionState state) => (V1.SessionState)(int)state;
    /// <summary>The domain form of a session state.</summary>
    public static SessionState ToDomain(this V1.SessionState state) => (SessionState)(int)state;

    /// <summary>The wire form of a task state.</summary>
    public static V1.TaskState ToWire(this TaskState state) => (V1.TaskState)(int)state;
    /// <summary>The domain form of a task state.</summary>
    public static TaskState ToDomain(this V1.TaskState state) => (TaskState)(int)state;

    /// <summary>The wire form of a shim.</summary>
    public static V1.Shim ToWire(this Shim shim) => (V1.Shim)(int)shim;
    /// <summary>The domain form of a shim.</summary>
    public static Shim ToDomain(this V1.Shim shim) => (Shim)(int)shim;

    /// <summary>The wire form of an application state.</summary>
    public static V1.ApplicationState ToWire(this ApplicationState state) => (V1.ApplicationState)(int)state;
    /// <summary>The domain form of an application state.</summary>
    public static ApplicationState ToDomain(this V1.ApplicationState state) => (ApplicationState)(int)state;

    /// <summary>The wire form of an executor state.</summary>
    public static V1.ExecutorState ToWire(this ExecutorState state) => (V1.ExecutorState)(int)state;
    /// <summary>The domain form of an executor state.</summary>
    public static ExecutorState ToDomain(this V1.ExecutorState state) => (ExecutorState)(int)state;

    /// <summary>The wire form of a node state.</summary>
    public static V1.NodeState ToWire(this NodeState state) => (V1.NodeState)(int)state;
    /// <summary>The domain form of a node state.</summary>
    public static NodeState ToDomain(this V1.NodeState state) => (NodeState)(int)state;

    // ---------------------------------------------------------------- small values

    /// <summary>The wire form of an event.</summary>
    public static V1.Event ToWire(this FlameEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var wire = new V1.Event { Code = e.Code, CreationTime = e.CreationTime };
        if (e.Message is not null)
            wire.Message = e.Message;
        return wire;
    }

    /// <summary>The domain form of an event.</summary>
    public static FlameEvent ToDomain(this V1.Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new FlameEvent
        {
            Code = e.Code,
            Message = e.HasMessage ? e.Message : null,
            CreationTime = e.CreationTime,
        };
    }

    /// <summary>The wire form of a resource requirement.</summary>
    public static V1.ResourceRequirement ToWire(this ResourceRequirement r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new V1.ResourceRequirement { Cpu = r.Cpu, Memory = r.Memory, Gpu = r.Gpu };
    }

    /// <summary>The domain form of a resource requirement.</summary>
    public static ResourceRequirement ToDomain(this V1.ResourceRequirement r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new ResourceRequirement { Cpu = r.Cpu, Memory = r.Memory, Gpu = r.Gpu };
    }

    /// <summary>The wire form of an environment variable.</summary>
    public static V1.Environment ToWire(this EnvironmentVariable v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new V1.Environment { Name = v.Name ?? "", Value = v.Value ?? "" };
    }

    /// <summary>The domain form of an environment variable.</summary>
    public static EnvironmentVariable ToDomain(this V1.Environment v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new EnvironmentVariable { Name = v.Name, Value = v.Value };
    }

    /// <summary>The wire form of an application schema.</summary>
    public static V1.ApplicationSchema ToWire(this ApplicationSchema s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var wire = new V1.ApplicationSchema();
        if (s.Input is not null) wire.Input = s.Input;
        if (s.Output is not null) wire.Output = s.Output;
        if (s.CommonData is not null) wire.CommonData = s.CommonData;
        return wire;
    }

    /// <summary>The domain form of an application schema.</summary>
    public static ApplicationSchema ToDomain(this V1.ApplicationSchema s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new ApplicationSchema
        {
            Input = s.HasInput ? s.Input : null,
            Output = s.HasOutput ? s.Output : null,
            CommonData = s.HasCommonData ? s.CommonData : null,
        };
    }

    // ---------------------------------------------------------------- helpers

    private static string IdOf(V1.Metadata? metadata) =>
        metadata is null ? "" : metadata.Id.Length > 0 ? metadata.Id : metadata.Name;

    private static string NameOf(V1.Metadata? metadata) =>
        metadata is null ? "" : metadata.Name.Length > 0 ? metadata.Name : metadata.Id;

    private static void AddEvents(RepeatedField<V1.Event> target, IReadOnlyList<FlameEvent>? events)
    {
        if (events is null || events.Count == 0)
            return;
        target.Capacity = events.Count;
        for (var i = 0; i < events.Count; i++)
            target.Add(events[i].ToWire());
    }

    private static TOut[] Map<TIn, TOut>(RepeatedField<TIn> source, Func<TIn, TOut> map)
    {
        if (source.Count == 0)
            return [];
        var result = new TOut[source.Count];
        for (var i = 0; i < result.Length; i++)
            result[i] = map(source[i]);
        return result;
    }
}
