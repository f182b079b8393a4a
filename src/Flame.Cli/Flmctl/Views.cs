namespace Flame.Cli.Control;

/// <summary>
/// What flmctl prints: the list tables, the "table" view of one object (labelled lines and an events table),
/// and the documents (<see cref="SessionDocument"/> and its kin) printed by <c>-o json</c> and <c>-o yaml</c>.
/// </summary>
/// <remarks>
/// In json and yaml, keys are camelCase, times are ISO 8601 UTC strings, enums are their names, and byte
/// payloads (task input and output, session common data) are given twice: their length
/// (<c>inputSize</c>, <c>outputSize</c>, <c>commonDataSize</c>) and their content in base64
/// (<c>input</c>, <c>output</c>, <c>commonData</c>); a task's output is also given as <c>outputText</c>
/// when it is printable UTF-8.
/// </remarks>
public static class Views
{
    // ------------------------------------------------------------------ list tables

    public static Table Sessions(IEnumerable<SessionInfo> sessions, bool color)
    {
        var table = new Table("ID", "STATE", "APP", "PRIORITY", "PENDING", "RUNNING", "SUCCEED", "FAILED", "CANCELLED", "CREATED") { Color = color }
            .ColorColumn(1, Ansi.OfState);
        foreach (var s in sessions)
        {
            var st = s.Status;
            table.Add(s.Id, st.State.ToString(), s.Spec.Application, s.Spec.Priority.ToString(), st.Pending.ToString(), st.Running.ToString(),
                st.Succeed.ToString(), st.Failed.ToString(), st.Cancelled.ToString(), Units.LocalTime(st.CreationTime));
        }
        return table;
    }

    public static Table Applications(IEnumerable<ApplicationInfo> apps, bool color)
    {
        var table = new Table("NAME", "STATE", "SHIM", "COMMAND", "MAX", "DELAY", "CREATED") { Color = color }
            .ColorColumn(1, Ansi.OfState);
        foreach (var a in apps)
        {
            table.Add(a.Name, a.State.ToString(), a.Spec.Shim.ToString(), a.Spec.Command,
                a.Spec.MaxInstances?.ToString(), a.Spec.DelayRelease is { } d ? $"{d}s" : null, Units.LocalTime(a.CreationTime));
        }
        return table;
    }

    public static Table Executors(IEnumerable<ExecutorInfo> executors, bool color)
    {
        var table = new Table("ID", "NODE", "STATE", "SESSION") { Color = color }.ColorColumn(2, Ansi.OfState);
        foreach (var e in executors)
            table.Add(e.Id, e.Node, e.State.ToString(), e.SessionId);
        return table;
    }

    public static Table Nodes(IEnumerable<NodeInfo> nodes, bool color, DateTimeOffset now)
    {
        var table = new Table("NAME", "STATE", "CPU", "MEMORY", "ARCH", "OS", "HEARTBEAT") { Color = color }.ColorColumn(1, Ansi.OfState);
        foreach (var n in nodes)
        {
            table.Add(n.Name, n.State.ToString(), Units.Cpu(n.Capacity.Cpu), Units.Bytes(n.Capacity.Memory),
                Empty(n.Arch), Empty(n.Os), Units.Ago(n.LastHeartbeatTime, now));
        }
        return table;
    }

    public static Table Tasks(IEnumerable<TaskInfo> tasks, bool color)
    {
        var table = new Table("ID", "STATE", "INPUT", "OUTPUT", "CREATED", "COMPLETED") { Color = color }.ColorColumn(1, Ansi.OfState);
        foreach (var t in tasks)
        {
            table.Add(t.Id.ToString(), t.State.ToString(), Units.Bytes((ulong)(t.Input?.Length ?? 0)), Units.Bytes((ulong)(t.Output?.Length ?? 0)),
                Units.LocalTime(t.CreationTime), t.CompletionTime is { } c ? Units.LocalTime(c) : null);
        }
        return table;
    }

    // ------------------------------------------------------------------ one object, as labelled lines

    public static void DescribeSession(TextWriter w, SessionInfo s, bool color)
    {
        var spec = s.Spec;
        var st = s.Status;
        Fields(w, color,
            ("Session", s.Id),
            ("State", st.State.ToString()),
            ("Application", spec.Application),
            ("Priority", spec.Priority.ToString()),
            ("Resources", spec.ResReq is { } r ? ResourceRequirements.Format(r) : "-"),
            ("Min instances", spec.MinInstances.ToString()),
            ("Max instances", spec.MaxInstances?.ToString() ?? "unlimited"),
            ("Batch size", spec.BatchSize.ToString()),
            ("Common data", Units.Bytes((ulong)(spec.CommonData?.Length ?? 0))),
            ("Created", Units.LocalTime(st.CreationTime)),
            ("Completed", st.CompletionTime is { } c ? Units.LocalTime(c) : "-"),
            ("Tasks", $"{st.Pending} pending, {st.Running} running, {st.Succeed} succeed, {st.Failed} failed, {st.Cancelled} cancelled"));
        Events(w, st.Events, SessionEventName, color);
    }

    public static void DescribeApplication(TextWriter w, ApplicationInfo a, bool color)
    {
        var spec = a.Spec;
        Fields(w, color,
            ("Application", a.Name),
            ("State", a.State.ToString()),
            ("Shim", spec.Shim.ToString()),
            ("Image", spec.Image ?? "-"),
            ("URL", spec.Url ?? "-"),
            ("Installer", spec.Installer ?? "-"),
            ("Description", spec.Description ?? "-"),
            ("Labels", spec.Labels.Count == 0 ? "-" : string.Join(", ", spec.Labels)),
            ("Command", spec.Command ?? "-"),
            ("Arguments", spec.Arguments.Count == 0 ? "-" : string.Join(" ", spec.Arguments)),
            ("Environments", spec.Environments.Count == 0 ? "-" : string.Join(", ", spec.Environments.Select(e => $"{e.Name}={e.Value}"))),
            ("Working directory", spec.WorkingDirectory ?? "-"),
            ("Max instances", spec.MaxInstances?.ToString() ?? "unlimited"),
            ("Delay release", spec.DelayRelease is { } d ? $"{d}s" : "cluster default"),
            ("Schema", spec.Schema is { } schema
                ? $"input {schema.Input ?? "-"}, output {schema.Output ?? "-"}, common data {schema.CommonData ?? "-"}"
                : "-"),
            ("Created", Units.LocalTime(a.CreationTime)));
    }

    public static void DescribeTask(TextWriter w, TaskInfo t, bool color)
    {
        var text = Units.PrintableText(t.Output);
        var fields = new List<(string, string)>
        {
            ("Task", $"{t.SessionId}/{t.Id}"),
            ("State", t.State.ToString()),
            ("Created", Units.LocalTime(t.CreationTime)),
            ("Completed", t.CompletionTime is { } c ? Units.LocalTime(c) : "-"),
        };
        if (t.CompletionTime is { } done)
            fields.Add(("Duration", Units.Duration(TimeSpan.FromMilliseconds(Math.Max(0, done - t.CreationTime)))));
        fields.Add(("Input", Units.Bytes((ulong)(t.Input?.Length ?? 0))));
        fields.Add(("Output", Units.Bytes((ulong)(t.Output?.Length ?? 0))));
        if (text is not null)
            fields.Add(("Output text", CliErrors.OneLine(text)));
        Fields(w, color, [.. fields]);
        Events(w, t.Events, code => ((TaskState)code).ToString(), color);
    }

    public static void DescribeNode(TextWriter w, NodeInfo n, bool color, DateTimeOffset now)
    {
        Fields(w, color,
            ("Node", n.Name),
            ("Hostname", Empty(n.Hostname)),
            ("State", n.State.ToString()),
            ("Arch", Empty(n.Arch)),
            ("OS", Empty(n.Os)),
            ("Capacity", $"cpu {Units.Cpu(n.Capacity.Cpu)}, memory {Units.Bytes(n.Capacity.Memory)}, gpu {n.Capacity.Gpu}"),
            ("Allocatable", $"cpu {Units.Cpu(n.Allocatable.Cpu)}, memory {Units.Bytes(n.Allocatable.Memory)}, gpu {n.Allocatable.Gpu}"),
            ("Addresses", n.Addresses.Count == 0 ? "-" : string.Join(", ", n.Addresses.Select(a => $"{a.Address} ({a.Type})"))),
            ("Heartbeat", n.LastHeartbeatTime <= 0 ? "never" : $"{Units.LocalTime(n.LastHeartbeatTime)} ({Units.Ago(n.LastHeartbeatTime, now)})"));
    }

    private static void Fields(TextWriter w, bool color, params (string Label, string Value)[] fields)
    {
        var width = fields.Max(f => f.Label.Length) + 1;
        foreach (var (label, value) in fields)
        {
            var shown = label == "State" && color && Ansi.OfState(value) is { } code ? code + value + Ansi.Reset : value;
            w.WriteLine($"{(label + ":").PadRight(width)}  {shown}");
        }
    }

    private static void Events(TextWriter w, IReadOnlyList<FlameEvent> events, Func<int, string> nameOf, bool color)
    {
        if (events.Count == 0)
        {
            w.WriteLine("Events:       -");
            return;
        }
        w.WriteLine("Events:");
        var table = new Table("CODE", "NAME", "TIME", "MESSAGE") { Color = color }.ColorColumn(1, Ansi.OfState);
        foreach (var e in events)
            table.Add(e.Code.ToString(), nameOf(e.Code), Units.LocalTime(e.CreationTime), e.Message is { Length: > 0 } m ? CliErrors.OneLine(m) : "-");
        table.WriteTo(w, "  ");
    }

    /// <summary>The name of a session event code.</summary>
    public static string SessionEventName(int code) => code switch
    {
        SessionEventCodes.Created => "Created",
        SessionEventCodes.Closed => "Closed",
        SessionEventCodes.BindingFailed => "BindingFailed",
        SessionEventCodes.RetryLimitReached => "RetryLimitReached",
        SessionEventCodes.Restored => "Restored",
        SessionEventCodes.ExecutorAssigned => "ExecutorAssigned",
        SessionEventCodes.ExecutorUnbound => "ExecutorUnbound",
        SessionEventCodes.ExecutorPreempted => "ExecutorPreempted",
        _ => code.ToString(),
    };

    private static string Empty(string s) => s.Length == 0 ? "-" : s;

    // ------------------------------------------------------------------ one object, as a json/yaml document

    public static SessionDocument Document(SessionInfo s) => new(
        s.Id, s.Status.State.ToString(), s.Spec.Application, s.Spec.Priority, s.Spec.ResReq is { } r ? Resources(r) : null,
        s.Spec.MinInstances, s.Spec.MaxInstances, s.Spec.BatchSize, s.Spec.CommonData?.Length ?? 0, Base64(s.Spec.CommonData),
        Units.IsoTime(s.Status.CreationTime), s.Status.CompletionTime is { } c ? Units.IsoTime(c) : null,
        new TaskCountsDocument(s.Status.Pending, s.Status.Running, s.Status.Succeed, s.Status.Failed, s.Status.Cancelled),
        EventDocuments(s.Status.Events, SessionEventName));

    public static ApplicationDocument Document(ApplicationInfo a) => new(
        a.Name, a.State.ToString(), a.Spec.Shim.ToString(), a.Spec.Image, a.Spec.Url, a.Spec.Installer, a.Spec.Description,
        a.Spec.Labels, a.Spec.Command, a.Spec.Arguments, a.Spec.Environments.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal),
        a.Spec.WorkingDirectory, a.Spec.MaxInstances, a.Spec.DelayRelease,
        a.Spec.Schema is { } schema ? new SchemaDocument(schema.Input, schema.Output, schema.CommonData) : null,
        Units.IsoTime(a.CreationTime));

    public static TaskDocument Document(TaskInfo t) => new(
        t.Id, t.SessionId, t.State.ToString(), Units.IsoTime(t.CreationTime), t.CompletionTime is { } c ? Units.IsoTime(c) : null,
        t.Input?.Length ?? 0, Base64(t.Input), t.Output?.Length ?? 0, Base64(t.Output), Units.PrintableText(t.Output),
        EventDocuments(t.Events, code => ((TaskState)code).ToString()));

    public static NodeDocument Document(NodeInfo n) => new(
        n.Name, n.Hostname, n.State.ToString(), n.Arch, n.Os, Resources(n.Capacity), Resources(n.Allocatable),
        [.. n.Addresses.Select(a => new AddressDocument(a.Type, a.Address))],
        n.LastHeartbeatTime > 0 ? Units.IsoTime(n.LastHeartbeatTime) : null);

    private static ResourcesDocument Resources(ResourceRequirement r) => new(r.Cpu, r.Memory, r.Gpu);

    private static EventDocument[] EventDocuments(IReadOnlyList<FlameEvent> events, Func<int, string> nameOf) =>
        [.. events.Select(e => new EventDocument(e.Code, nameOf(e.Code), Units.IsoTime(e.CreationTime), e.Message))];

    private static string? Base64(byte[]? bytes) => bytes is null ? null : Convert.ToBase64String(bytes);
}
