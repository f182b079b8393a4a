using System.Runtime.CompilerServices;
using Flame.Storage;

namespace Flame.Grains.Sessions;

/// <summary>
/// Reads a session's whole task list for a stream (the gateway's ListTask): from the task store in id order, each
/// task as the session grain shows it. A session may hold millions of tasks; streaming them from the store keeps
/// them out of the grain's memory and its turn, and the store's row format stays a grains' concern.
/// </summary>
/// <remarks>The caller checks first that the session exists and may be read (its grain's <c>GetAsync</c>).</remarks>
public sealed class SessionTaskReader(ITaskStore store)
{
    /// <summary>Every stored task of <paramref name="sessionId"/>, in id order.</summary>
    public async IAsyncEnumerable<TaskInfo> ReadAsync(string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        await foreach (var task in store.LoadTasksAsync(sessionId, 0, cancellationToken).ConfigureAwait(false))
            yield return TaskTable.ToInfo(task, sessionId);
    }
}
