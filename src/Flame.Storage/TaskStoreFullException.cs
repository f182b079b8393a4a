namespace Flame.Storage;

/// <summary>
/// A write the store refused because its disk (or its database's quota) is full. It is not retried by the store: space
/// does not come back by itself. Callers keep what they failed to write and try again; new work should be refused
/// while <see cref="GroupCommitTaskStore.Full"/> says so.
/// </summary>
public sealed class TaskStoreFullException : IOException
{
    /// <summary>Wraps the database's own error (<paramref name="inner"/>), whose message names the disk.</summary>
    public TaskStoreFullException(Exception inner)
        : base($"the task store's disk is full ({inner.Message})", inner)
    {
    }
}
