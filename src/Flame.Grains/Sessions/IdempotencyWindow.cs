using System.Globalization;
using System.Text.RegularExpressions;
using Flame.Storage;

namespace Flame.Grains.Sessions;

/// <summary>
/// The idempotency keys a session has seen (see <see cref="IdempotencyKey"/>): a create sent again with a key it
/// remembers gets the task(s) the first attempt created, not new ones.
/// </summary>
/// <remarks>
/// A key is remembered for <see cref="Retention"/> and at most <see cref="Capacity"/> keys per session, oldest first
/// out: a client retries within seconds, so a bounded window is enough. It must outlive the silo: the attempt whose
/// answer was lost may have been made durable just before the silo died, and the retry then reaches the session
/// restored on another silo. So the key is written as an event of the first task it created (<see cref="Event"/>),
/// in the same row and transaction as the task, and read back by <see cref="Restore"/>.
/// </remarks>
internal sealed partial class IdempotencyWindow
{
    /// <summary>How long a key is remembered: 15 minutes.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(15);

    /// <summary>The most keys a session remembers: 100,000.</summary>
    public const int Capacity = 100_000;

    private const string Prefix = "idempotency key ";

    private readonly Dictionary<string, Entry> _keys = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, long Time)> _order = new();
    private readonly long _retentionMs;
    private readonly int _capacity;

    /// <summary>A window of <see cref="Retention"/> and <see cref="Capacity"/>, or others (for tests).</summary>
    public IdempotencyWindow(TimeSpan? retention = null, int capacity = Capacity)
    {
        _retentionMs = (long)(retention ?? Retention).TotalMilliseconds;
        _capacity = capacity;
    }

    /// <summary>How many keys are remembered now.</summary>
    public int Count => _keys.Count;

    /// <summary>
    /// True with the first task id when <paramref name="key"/> was seen (within the window, at <paramref name="now"/>,
    /// Unix epoch ms). InvalidArgument when it was seen with another number of tasks: the key was reused for another
    /// call, and answering with the first call's tasks would be wrong.
    /// </summary>
    public bool TryGet(string key, int count, long now, out long firstId)
    {
        Expire(now);
        if (_keys.TryGetValue(key, out var entry))
        {
            if (entry.Count != count)
                throw FlameException.InvalidArgument(
                    $"the {IdempotencyKey.Header} '{key}' was used for a call of {entry.Count} task(s), not {count}; use a new key for each call");
            firstId = entry.FirstId;
            return true;
        }
        firstId = 0;
        return false;
    }

    /// <summary>Remembers that <paramref name="key"/> created <paramref name="count"/> tasks from <paramref name="firstId"/> at <paramref name="now"/>.</summary>
    public void Remember(string key, long firstId, int count, long now)
    {
        if (_keys.TryAdd(key, new Entry(firstId, count)))
            _order.Enqueue((key, now));
        Expire(now);
    }

    /// <summary>The event that records <paramref name="key"/> on the first task it created (stored with that task).</summary>
    public static FlameEvent Event(string key, int count, long now) => new()
    {
        Code = TaskTable.NoteCode,
        Message = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{key} ({count} task(s))"),
        CreationTime = now,
    };

    /// <summary>Remembers the key a restored task was created with, if any and if still within the window at <paramref name="now"/>.</summary>
    public void Restore(StoredTask task, long now)
    {
        if (task.History is not { } history || !history.Contains(Prefix, StringComparison.Ordinal))
            return;
        foreach (var e in StoredForms.Events(history))
        {
            if (e.Code == TaskTable.NoteCode && e.Message is { } message && EventMessage().Match(message) is { Success: true } m
                && now - e.CreationTime < _retentionMs)
            {
                Remember(m.Groups[1].Value, task.Id, int.Parse(m.Groups[2].ValueSpan, CultureInfo.InvariantCulture), e.CreationTime);
                Expire(now);
            }
        }
    }

    private void Expire(long now)
    {
        while (_order.TryPeek(out var oldest) && (now - oldest.Time >= _retentionMs || _order.Count > _capacity))
        {
            _order.Dequeue();
            _keys.Remove(oldest.Key);
        }
    }

    [GeneratedRegex(@"^idempotency key ([A-Za-z0-9._:\-]{1,128}) \(([0-9]{1,9}) task\(s\)\)$")]
    private static partial Regex EventMessage();

    private readonly record struct Entry(long FirstId, int Count);
}
