using Flame.Storage;

namespace Flame.Grains.Sessions;

/// <summary>Tasks read straight from the task store, for readers that stream (ListTask) instead of paging the grain.</summary>
public static class StoredTasks
{
    /// <summary>A stored task as the session grain would show it.</summary>
    public static TaskInfo ToInfo(StoredTask task, string sessionId) => TaskTable.ToInfo(task, sessionId);
}
