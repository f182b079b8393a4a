using System.Diagnostics;
using System.Globalization;
using Flame.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Flame.Grains.Sessions;

/// <summary>
/// The sessions as the task store has them (its session rows are the truth: a session is in the store before its
/// creation is acknowledged). Holds nothing, so a million sessions cost it nothing, and any silo serves it locally.
/// See <see cref="ISessionDirectoryGrain"/>.
/// </summary>
[StatelessWorker]
public sealed partial class SessionDirectoryGrain(ITaskStore store, ILogger<SessionDirectoryGrain> logger) : Grain, ISessionDirectoryGrain
{
    /// <summary>Most sessions one page holds.</summary>
    public const int MaxPage = 10_000;

    public Task AddAsync(string sessionId) => Task.CompletedTask;

    public Task RemoveAsync(string sessionId) => Task.CompletedTask;

    public async Task<IReadOnlyList<string>> ListAsync()
    {
        var ids = new List<string>();
        string? token = null;
        do
        {
            var page = await ListPageAsync(token, MaxPage, open: null, application: null);
            ids.AddRange(page.Sessions.Select(s => s.Id));
            token = page.NextPageToken;
        }
        while (token is not null);
        return ids;
    }

    public async Task WakeOpenSessionsAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var work = await store.LoadOpenSessionsWithWorkAsync();
        foreach (var session in work)
            _ = GrainFactory.GetGrain<ISessionGrain>(session.SessionId).WakeAsync(); // one-way: each activates on its own
        LogRecovery(work.Count, work.Sum(w => (long)w.Pending), work.Sum(w => (long)w.Running), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public async Task<SessionListPage> ListPageAsync(string? pageToken, int max, bool? open, string? application)
    {
        if (max is < 1 or > MaxPage)
            throw FlameException.InvalidArgument($"page size {max} is out of range: 1 to {MaxPage}");
        var (afterTime, afterId) = ParseToken(pageToken);
        var rows = await store.LoadSessionPageAsync(new StoredSessionQuery
        {
            AfterCreationTime = afterTime,
            AfterId = afterId,
            Max = max,
            Open = open,
            Application = string.IsNullOrEmpty(application) ? null : application,
        });
        SessionInfo[] sessions = [.. rows.Select(ToInfo)];
        return new SessionListPage
        {
            Sessions = sessions,
            NextPageToken = sessions.Length == max ? SessionListPage.TokenAfter(sessions[^1]) : null,
        };
    }

    public async Task<IReadOnlyList<string>> PruneClosedAsync(long closedBefore, int max)
    {
        if (max is < 1 or > MaxPage)
            throw FlameException.InvalidArgument($"prune size {max} is out of range: 1 to {MaxPage}");
        var deleted = new List<string>();
        foreach (var id in await store.LoadClosedSessionIdsAsync(closedBefore, max))
        {
            try
            {
                await GrainFactory.GetGrain<ISessionGrain>(id).DeleteAsync();
                deleted.Add(id);
            }
            catch (FlameException ex) when (ex.Kind is FlameErrorKind.NotFound or FlameErrorKind.FailedPrecondition)
            {
                // Deleted meanwhile, or still running a task: the next prune takes it.
            }
        }
        if (deleted.Count > 0)
            LogPruned(deleted.Count, DateTimeOffset.FromUnixTimeMilliseconds(closedBefore));
        return deleted;
    }

    /// <summary>A token is the last session's creation time and id: "{ms}:{id}" (ids may hold ':'; the time may not).</summary>
    private static (long Time, string Id) ParseToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
            return (0, "");
        var colon = token.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(token.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var time))
            throw FlameException.InvalidArgument($"page token '{LogText.Escape(token, 100)}' is malformed: pass the next_page_token of the previous page");
        return (time, token[(colon + 1)..]);
    }

    /// <summary>The session as its row and task counts show it: what GetSession shows once the session's changes are written.</summary>
    private static SessionInfo ToInfo(StoredSessionSummary row)
    {
        var form = StoredForms.Read<StoredSessionForm>(row.Session.Json);
        var counts = row.TaskCounts;
        return new SessionInfo
        {
            Id = row.Session.Id,
            Spec = form.Spec,
            Status = new SessionStatus
            {
                State = form.State,
                CreationTime = form.CreationTime,
                CompletionTime = form.CompletionTime,
                Pending = counts[(int)TaskState.Pending],
                Running = counts[(int)TaskState.Running],
                Succeed = counts[(int)TaskState.Succeed],
                Failed = counts[(int)TaskState.Failed],
                Cancelled = counts[(int)TaskState.Cancelled],
                Events = form.Events,
            },
        };
    }
}
