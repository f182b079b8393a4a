namespace Flame.Service;

/// <summary>What a service instance learns when it enters a session: given once per binding, before any task.</summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="ApplicationName">The name of the application the session runs.</param>
/// <param name="CommonData">The session's common data (<c>SessionSpec.common_data</c>), or null when the session has none.
/// Treat the array as read-only.</param>
public sealed record SessionContext(string SessionId, string ApplicationName, byte[]? CommonData);

/// <summary>One task to run.</summary>
/// <param name="TaskId">The task's id, unique in its session (Flame uses <c>1</c>, <c>2</c>, … in creation order).</param>
/// <param name="SessionId">The session the task belongs to.</param>
/// <param name="Input">The task's input, or null when it has none. Treat the array as read-only.</param>
public sealed record TaskContext(string TaskId, string SessionId, byte[]? Input);
