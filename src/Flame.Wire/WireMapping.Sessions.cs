using Google.Protobuf;

namespace Flame.Wire;

// Sessions: specs, statuses, sessions and their lists.
public static partial class WireMapping
{
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
}
