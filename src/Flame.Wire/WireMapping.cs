using Google.Protobuf;
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
public static class WireMapping
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

    // ---------------------------------------------------------------- applications

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

    // ---------------------------------------------------------------- sessions

    /// <summary>The wire form of a session spec.</summary>
    public static V1.SessionSpec ToWire(this SessionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var wire = new V1.SessionSpec
        {
            Application = spec.Application ?? "",
            MinInstances = spec.MinInstances,
            BatchSize = spec.BatchSize,
            Priority = spec.Priority,
        };
        if (spec.CommonData is not null) wire.CommonData = UnsafeByteOperations.UnsafeWrap(spec.CommonData);
        if (spec.MaxInstances is { } max) wire.MaxInstances = max;
        if (spec.ResReq is not null) wire.Resreq = spec.ResReq.ToWire();
        return wire;
    }

    /// <summary>The domain form of a session spec.</summary>
    public static SessionSpec ToDomain(this V1.SessionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new SessionSpec
        {
            Application = spec.Application,
            CommonData = spec.HasCommonData ? spec.CommonData.ToByteArray() : null,
            MinInstances = spec.MinInstances,
            MaxInstances = spec.HasMaxInstances ? spec.MaxInstances : null,
            BatchSize = spec.BatchSize,
            Priority = spec.Priority,
            ResReq = spec.Resreq?.ToDomain(),
        };
    }

    /// <summary>The wire form of a session status.</summary>
    public static V1.SessionStatus ToWire(this SessionStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var wire = new V1.SessionStatus
        {
            State = status.State.ToWire(),
            CreationTime = status.CreationTime,
            Pending = status.Pending,
            Running = status.Running,
            Succeed = status.Succeed,
            Failed = status.Failed,
            Cancelled = status.Cancelled,
        };
        if (status.CompletionTime is { } completed) wire.CompletionTime = completed;
        AddEvents(wire.Events, status.Events);
        return wire;
    }

    /// <summary>The domain form of a session status.</summary>
    public static SessionStatus ToDomain(this V1.SessionStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new SessionStatus
        {
            State = status.State.ToDomain(),
            CreationTime = status.CreationTime,
            CompletionTime = status.HasCompletionTime ? status.CompletionTime : null,
            Pending = status.Pending,
            Running = status.Running,
            Succeed = status.Succeed,
            Failed = status.Failed,
            Cancelled = status.Cancelled,
            Events = Map(status.Events, static e => e.ToDomain()),
        };
    }

    /// <summary>The wire form of a session: metadata id and name are both the session id.</summary>
    public static V1.Session ToWire(this SessionInfo session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var id = session.Id ?? "";
        return new V1.Session
        {
            Metadata = new V1.Metadata { Id = id, Name = id },
            Spec = (session.Spec ?? new SessionSpec { Application = "" }).ToWire(),
            Status = (session.Status ?? new SessionStatus()).ToWire(),
        };
    }

    /// <summary>The domain form of a session.</summary>
    public static SessionInfo ToDomain(this V1.Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new SessionInfo
        {
            Id = IdOf(session.Metadata),
            Spec = session.Spec?.ToDomain() ?? new SessionSpec { Application = "" },
            Status = session.Status?.ToDomain() ?? new SessionStatus(),
        };
    }

    /// <summary>The wire list of <paramref name="sessions"/>, in their order.</summary>
    public static V1.SessionList ToWire(this IEnumerable<SessionInfo> sessions)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var list = new V1.SessionList();
        foreach (var session in sessions)
            list.Sessions.Add(session.ToWire());
        return list;
    }

    // ---------------------------------------------------------------- tasks

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

    // ---------------------------------------------------------------- executors and nodes

    /// <summary>The wire form of an executor: metadata id and name are both the executor id.</summary>
    public static V1.Executor ToWire(this ExecutorInfo executor)
    {
        ArgumentNullException.ThrowIfNull(executor);
        var id = executor.Id ?? "";
        var status = new V1.ExecutorStatus { State = executor.State.ToWire() };
        if (executor.SessionId is not null) status.SessionId = executor.SessionId;
        return new V1.Executor
        {
            Metadata = new V1.Metadata { Id = id, Name = id },
            Spec = new V1.ExecutorSpec
            {
                Node = executor.Node ?? "",
                Resreq = (executor.ResReq ?? new ResourceRequirement()).ToWire(),
                Shim = executor.Shim.ToWire(),
            },
            Status = status,
        };
    }

    /// <summary>The domain form of an executor.</summary>
    public static ExecutorInfo ToDomain(this V1.Executor executor)
    {
        ArgumentNullException.ThrowIfNull(executor);
        var status = executor.Status;
        return new ExecutorInfo
        {
            Id = IdOf(executor.Metadata),
            Node = executor.Spec?.Node ?? "",
            ResReq = executor.Spec?.Resreq?.ToDomain() ?? new ResourceRequirement(),
            Shim = executor.Spec?.Shim.ToDomain() ?? Shim.Host,
            State = status?.State.ToDomain() ?? ExecutorState.Unknown,
            SessionId = status is { HasSessionId: true } ? status.SessionId : null,
        };
    }

    /// <summary>The wire list of <paramref name="executors"/>, in their order.</summary>
    public static V1.ExecutorList ToWire(this IEnumerable<ExecutorInfo> executors)
    {
        ArgumentNullException.ThrowIfNull(executors);
        var list = new V1.ExecutorList();
        foreach (var executor in executors)
            list.Executors.Add(executor.ToWire());
        return list;
    }

    /// <summary>The wire form of a node address.</summary>
    public static V1.NodeAddress ToWire(this NodeAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new V1.NodeAddress { Type = address.Type ?? "", Address = address.Address ?? "" };
    }

    /// <summary>The domain form of a node address.</summary>
    public static NodeAddress ToDomain(this V1.NodeAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new NodeAddress { Type = address.Type, Address = address.Address };
    }

    /// <summary>The wire status of a node (what a heartbeat carries).</summary>
    public static V1.NodeStatus ToWireStatus(this NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var status = new V1.NodeStatus
        {
            State = node.State.ToWire(),
            Capacity = (node.Capacity ?? new ResourceRequirement()).ToWire(),
            Allocatable = (node.Allocatable ?? new ResourceRequirement()).ToWire(),
            Info = new V1.NodeInfo { Arch = node.Arch ?? "", Os = node.Os ?? "" },
            LastHeartbeatTime = node.LastHeartbeatTime,
        };
        foreach (var address in node.Addresses)
            status.Addresses.Add(address.ToWire());
        return status;
    }

    /// <summary>The wire form of a node: metadata id and name are both the node's name.</summary>
    public static V1.Node ToWire(this NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var name = node.Name ?? "";
        var spec = new V1.NodeSpec { Hostname = node.Hostname ?? "" };
        foreach (var shim in node.Shims ?? [])
            spec.Shims.Add(shim.ToWire());
        return new V1.Node
        {
            Metadata = new V1.Metadata { Id = name, Name = name },
            Spec = spec,
            Status = node.ToWireStatus(),
        };
    }

    /// <summary>The domain form of a node.</summary>
    public static NodeInfo ToDomain(this V1.Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return (node.Status ?? new V1.NodeStatus()).ToDomain(NameOf(node.Metadata), node.Spec?.Hostname ?? "") with
        {
            Shims = node.Spec is { } spec ? Map(spec.Shims, static s => s.ToDomain()) : [],
        };
    }

    /// <summary>The domain form of a node's status (e.g. from a heartbeat), with its name and host name given.</summary>
    public static NodeInfo ToDomain(this V1.NodeStatus status, string name, string hostname)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new NodeInfo
        {
            Name = name ?? "",
            Hostname = hostname ?? "",
            State = status.State.ToDomain(),
            Capacity = status.Capacity?.ToDomain() ?? new ResourceRequirement(),
            Allocatable = status.Allocatable?.ToDomain() ?? new ResourceRequirement(),
            Arch = status.Info?.Arch ?? "",
            Os = status.Info?.Os ?? "",
            Addresses = Map(status.Addresses, static a => a.ToDomain()),
            LastHeartbeatTime = status.LastHeartbeatTime,
        };
    }

    /// <summary>The wire list of <paramref name="nodes"/>, in their order.</summary>
    public static V1.NodeList ToWire(this IEnumerable<NodeInfo> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var list = new V1.NodeList();
        foreach (var node in nodes)
            list.Nodes.Add(node.ToWire());
        return list;
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
