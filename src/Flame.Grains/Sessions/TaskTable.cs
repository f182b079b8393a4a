using Flame.Storage;

namespace Flame.Grains.Sessions;

/// <summary>
/// The tasks of one session: a compact table indexed by task id plus a FIFO of pending ids.
/// Every operation is O(1) (closing is O(pending) once), so a session can hold millions of tasks
/// and change thousands of states per second. Not thread-safe: its grain serialises access.
/// </summary>
/// <remarks>
/// A task costs one <see cref="TaskRecord"/> (48 bytes) plus 4 bytes in the pending queue while
/// pending, plus its input. Events are not stored for the usual life (created, running, finished):
/// they are derived from the record's times. Only a task whose life is unusual (a retry) gets an
/// explicit event list, in a side table.
/// </remarks>
internal sealed class TaskTable
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;

    private TaskRecord[][] _chunks = new TaskRecord[4][];
    private int _count;
    private readonly IntQueue _pending = new();
    private Dictionary<int, List<FlameEvent>>? _history;
    private Dictionary<int, string>? _failureMessages;
    private readonly int[] _counts = new int[5];

    /// <summary>Where the table's changes are counted (the metrics); none in a table that is only being read.</summary>
    public Diagnostics.SessionMetrics? Metrics { get; set; }

    /// <summary>How many tasks exist.</summary>
    public int Count => _count;

    /// <summary>The number of tasks in <paramref name="state"/>.</summary>
    public int CountOf(TaskState state) => _counts[(int)state];

    /// <summary>Adds a pending task and returns its id (1, 2, …).</summary>
    public long Add(byte[]? input, long now)
    {
        Metrics?.Created();
        return Append(input, now, enqueue: true);
    }

    private long Append(byte[]? input, long now, bool enqueue)
    {
        var index = _count;
        var chunk = index >> ChunkBits;
        if (chunk == _chunks.Length)
            Array.Resize(ref _chunks, _chunks.Length * 2);
        _chunks[chunk] ??= new TaskRecord[ChunkSize];
        _chunks[chunk][index & ChunkMask] = new TaskRecord { Input = input, CreationTime = now, State = TaskState.Pending };
        _count++;
        _counts[(int)TaskState.Pending]++;
        if (enqueue)
            _pending.Enqueue(index);
        return index + 1L;
    }

    /// <summary>True if <paramref name="id"/> names an existing task.</summary>
    public bool Contains(long id) => id >= 1 && id <= _count;

    /// <summary>The state of task <paramref name="id"/>.</summary>
    public TaskState StateOf(long id) => Record(id).State;

    /// <summary>Takes the oldest pending task and marks it running; false if none is pending.</summary>
    public bool TryStartNext(long now, string? message, out long id)
    {
        while (_pending.TryDequeue(out var index))
        {
            ref var r = ref _chunks[index >> ChunkBits][index & ChunkMask];
            if (r.State != TaskState.Pending)
                continue; // left behind by a cancellation
            id = index + 1L;
            Transition(id, ref r, TaskState.Running, now, message);
            r.StartTime = now;
            r.Attempts++;
            Metrics?.Started(now - r.CreationTime);
            return true;
        }
        id = 0;
        return false;
    }

    /// <summary>Moves a running task to a terminal state with the service's output.</summary>
    public void Complete(long id, TaskState terminal, byte[]? output, string? message, long now)
    {
        if (!terminal.IsTerminal())
            throw new ArgumentOutOfRangeException(nameof(terminal), terminal, "not a terminal state");
        ref var r = ref Record(id);
        if (r.State != TaskState.Running)
            throw FlameException.FailedPrecondition($"task {id} is {r.State}, not Running; it cannot become {terminal}");
        Transition(id, ref r, terminal, now, message);
        r.Output = output;
        r.CompletionTime = now;
        Metrics?.Finished(terminal, now - r.StartTime);
        if (terminal == TaskState.Failed && message is not null)
            (_failureMessages ??= [])[(int)(id - 1)] = message;
    }

    /// <summary>Puts a running task back at the end of the queue after a failed attempt.</summary>
    public void Requeue(long id, string message, long now)
    {
        ref var r = ref Record(id);
        if (r.State != TaskState.Running)
            throw FlameException.FailedPrecondition($"task {id} is {r.State}, not Running; it cannot go back to Pending");
        Transition(id, ref r, TaskState.Pending, now, message);
        _pending.Enqueue((int)(id - 1));
    }

    /// <summary>
    /// Puts a running task back that never started (it did not reach its executor, or waited in its window): first
    /// in the queue, since it was next in line, and with no attempt counted. Tasks returned together go back in
    /// reverse order to keep theirs.
    /// </summary>
    public void Return(long id, string message, long now)
    {
        ref var r = ref Record(id);
        if (r.State != TaskState.Running)
            throw FlameException.FailedPrecondition($"task {id} is {r.State}, not Running; it cannot go back to Pending");
        Transition(id, ref r, TaskState.Pending, now, message);
        r.Attempts--;
        _pending.EnqueueFirst((int)(id - 1));
    }

    /// <summary>Cancels every pending task; returns how many.</summary>
    public int CancelPending(long now, string message, List<long>? finished = null) => FinishPending(TaskState.Cancelled, now, message, finished);

    /// <summary>Fails every pending task with <paramref name="message"/>; returns how many.</summary>
    public int FailPending(long now, string message, List<long>? finished = null) => FinishPending(TaskState.Failed, now, message, finished);

    private int FinishPending(TaskState terminal, long now, string message, List<long>? ids)
    {
        var finished = 0;
        while (_pending.TryDequeue(out var index))
        {
            ref var r = ref _chunks[index >> ChunkBits][index & ChunkMask];
            if (r.State != TaskState.Pending)
                continue;
            var id = index + 1L;
            Transition(id, ref r, terminal, now, message);
            r.CompletionTime = now;
            Metrics?.Finished(terminal, null);
            if (terminal == TaskState.Failed)
                (_failureMessages ??= [])[index] = message;
            finished++;
            ids?.Add(id);
        }
        return finished;
    }

    /// <summary>The ids of the tasks in <paramref name="state"/>, in id order. O(n): for restoring, not the hot path.</summary>
    public List<long> IdsIn(TaskState state)
    {
        var want = CountOf(state);
        var ids = new List<long>(want);
        for (var index = 0; index < _count && ids.Count < want; index++)
            if (_chunks[index >> ChunkBits][index & ChunkMask].State == state)
                ids.Add(index + 1L);
        return ids;
    }

    /// <summary>The attempts made so far for task <paramref name="id"/>.</summary>
    public int AttemptsOf(long id) => Record(id).Attempts;

    /// <summary>The client's view of task <paramref name="id"/>.</summary>
    public TaskInfo Get(long id, string sessionId, long launch = 0)
    {
        ref var r = ref Record(id);
        return new TaskInfo
        {
            Id = id,
            Launch = launch,
            SessionId = sessionId,
            State = r.State,
            Input = InMemory(r.Input),
            Output = InMemory(r.Output),
            CreationTime = r.CreationTime,
            CompletionTime = r.State.IsTerminal() ? r.CompletionTime : null,
            Events = Shown(EventsOf(id, ref r)),
        };
    }

    /// <summary>Up to <paramref name="max"/> tasks with ids above <paramref name="afterId"/>.</summary>
    public TaskPage Page(long afterId, int max, string sessionId)
    {
        var first = Math.Max(afterId, 0) + 1;
        var last = Math.Min(_count, first + Math.Max(max, 1) - 1);
        var tasks = new List<TaskInfo>((int)Math.Max(0, last - first + 1));
        for (var id = first; id <= last; id++)
            tasks.Add(Get(id, sessionId));
        return new TaskPage { Tasks = tasks, NextAfterId = last < _count ? last : null };
    }

    /// <summary>Task <paramref name="id"/> as the task store keeps it, without its input (written once, at creation).</summary>
    public StoredTask Snapshot(long id, bool withInput)
    {
        ref var r = ref Record(id);
        // The store rewrites the output with every write: a task whose payloads it alone holds is never written again
        // (it is finished, and a finished task does not change).
        if (ReferenceEquals(r.Input, InStore) || ReferenceEquals(r.Output, InStore))
            throw new InvalidOperationException($"task {id} is finished and its payloads are in the task store only; it is not written again");
        var index = (int)(id - 1);
        string? message = null;
        if (r.State == TaskState.Failed)
            _failureMessages?.TryGetValue(index, out message);
        return new StoredTask
        {
            Id = id,
            State = (int)r.State,
            Attempts = r.Attempts,
            Input = withInput ? r.Input ?? [] : null,
            Output = r.Output,
            Message = message,
            CreationTime = r.CreationTime,
            StartTime = r.StartTime,
            CompletionTime = r.CompletionTime,
            History = _history is not null && _history.TryGetValue(index, out var events) ? StoredForms.Events(events) : null,
        };
    }

    /// <summary>
    /// Appends a task read back from the task store; tasks must come in id order, 1, 2, … Pending ones queue in id
    /// order; Running ones stay Running (the caller decides what a lost attempt means).
    /// </summary>
    public void Restore(StoredTask task)
    {
        if (task.Id != _count + 1L)
            throw new InvalidOperationException($"task {task.Id} restored after task {_count}: the store lost or reordered tasks");
        var state = (TaskState)task.State;
        // Only pending tasks queue, in id order; a task requeued later goes to the end like any other.
        var id = Append(task.Input is { Length: 0 } ? null : task.Input, task.CreationTime, enqueue: state == TaskState.Pending);
        var index = (int)(id - 1);
        ref var r = ref Record(id);
        r.Attempts = task.Attempts;
        r.Output = task.Output;
        r.StartTime = task.StartTime;
        r.CompletionTime = task.CompletionTime;
        if (task.History is { } history)
            (_history ??= [])[index] = StoredForms.Events(history);
        if (state == TaskState.Failed && task.Message is not null)
            (_failureMessages ??= [])[index] = task.Message;
        if (state != TaskState.Pending)
        {
            _counts[(int)TaskState.Pending]--;
            _counts[(int)state]++;
            r.State = state;
        }
    }

    /// <summary>
    /// Drops from memory the input and the output of finished task <paramref name="id"/> that are at least
    /// <paramref name="minBytes"/> long (and not empty), once the task store holds them: they are read back from there
    /// when asked for (<see cref="PayloadsInStore"/>). True if anything was dropped.
    /// </summary>
    public bool DropPayloads(long id, int minBytes)
    {
        ref var r = ref Record(id);
        if (!r.State.IsTerminal())
            return false;
        var dropped = false;
        if (r.Input is { Length: > 0 and var input } && input >= minBytes && !ReferenceEquals(r.Input, InStore))
        {
            r.Input = InStore;
            dropped = true;
        }
        if (r.Output is { Length: > 0 and var output } && output >= minBytes && !ReferenceEquals(r.Output, InStore))
        {
            r.Output = InStore;
            dropped = true;
        }
        return dropped;
    }

    /// <summary>
    /// Whether task <paramref name="id"/>'s input or output was dropped (<see cref="DropPayloads"/>): <see cref="Get"/>
    /// then shows it as null, and the task store has it.
    /// </summary>
    public bool PayloadsInStore(long id)
    {
        ref var r = ref Record(id);
        return ReferenceEquals(r.Input, InStore) || ReferenceEquals(r.Output, InStore);
    }

    // Stands for a payload that only the task store holds; compared by reference, never handed out.
    private static readonly byte[] InStore = new byte[1];

    private static byte[]? InMemory(byte[]? payload) => ReferenceEquals(payload, InStore) ? null : payload;

    private ref TaskRecord Record(long id)
    {
        if (!Contains(id))
            throw new KeyNotFoundException($"task {id} does not exist");
        var index = (int)(id - 1);
        return ref _chunks[index >> ChunkBits][index & ChunkMask];
    }

    private void Transition(long id, ref TaskRecord r, TaskState to, long now, string? message)
    {
        var index = (int)(id - 1);
        // The usual life is derived from the record; anything else (a second Running, a return to
        // Pending, a message on Running) needs the full event list from here on.
        var canonical = to switch
        {
            TaskState.Running => r.Attempts == 0 && message is null,
            TaskState.Pending => false,
            _ => true,
        };
        if (_history is not null && _history.TryGetValue(index, out var events))
        {
            events.Add(Event(to, message, now));
        }
        else if (!canonical)
        {
            var list = new List<FlameEvent>(EventsOf(id, ref r)) { Event(to, message, now) };
            (_history ??= [])[index] = list;
        }
        _counts[(int)r.State]--;
        _counts[(int)to]++;
        r.State = to;
    }

    /// <summary>
    /// Adds <paramref name="note"/> to the events of task <paramref name="id"/>; it is kept in the task's history, so
    /// it is written with the task (failover, issue 21: the idempotency key of the call that created it).
    /// </summary>
    public void Note(long id, FlameEvent note)
    {
        ref var r = ref Record(id);
        var index = (int)(id - 1);
        if (_history is not null && _history.TryGetValue(index, out var events))
            events.Add(note);
        else
            (_history ??= [])[index] = new List<FlameEvent>(EventsOf(id, ref r)) { note };
    }

    /// <summary>
    /// The code of a note kept in a task's history for the session itself (the idempotency key of the create that made
    /// it): written and restored with the task, never shown to clients.
    /// </summary>
    internal const int NoteCode = -1;

    /// <summary><paramref name="events"/> without the session's own notes (<see cref="NoteCode"/>).</summary>
    private static IReadOnlyList<FlameEvent> Shown(IReadOnlyList<FlameEvent> events)
    {
        foreach (var e in events)
            if (e.Code == NoteCode)
                return events.Where(x => x.Code != NoteCode).ToArray();
        return events;
    }

    private IReadOnlyList<FlameEvent> EventsOf(long id, ref TaskRecord r)
    {
        var index = (int)(id - 1);
        if (_history is not null && _history.TryGetValue(index, out var events))
            return events.ToArray();
        string? failure = null;
        if (r.State == TaskState.Failed)
            _failureMessages?.TryGetValue(index, out failure);
        return DerivedEvents(r.State, r.CreationTime, r.StartTime, r.CompletionTime, failure);
    }

    /// <summary>The events of a task with a usual life, derived from its times (nothing is stored for them).</summary>
    private static List<FlameEvent> DerivedEvents(TaskState state, long creation, long start, long completion, string? failure)
    {
        var derived = new List<FlameEvent>(3) { Event(TaskState.Pending, "created", creation) };
        if (start != 0)
            derived.Add(Event(TaskState.Running, null, start));
        if (state.IsTerminal())
        {
            var message = state == TaskState.Failed ? failure
                : state == TaskState.Cancelled ? "cancelled: the session was closed"
                : null;
            derived.Add(Event(state, message, completion));
        }
        return derived;
    }

    /// <summary>A task read from the task store, as <see cref="Get"/> shows it.</summary>
    public static TaskInfo ToInfo(StoredTask task, string sessionId)
    {
        var state = (TaskState)task.State;
        return new TaskInfo
        {
            Id = task.Id,
            SessionId = sessionId,
            State = state,
            Input = task.Input is { Length: 0 } ? null : task.Input,
            Output = task.Output,
            CreationTime = task.CreationTime,
            CompletionTime = state.IsTerminal() ? task.CompletionTime : null,
            Events = task.History is { } history
                ? Shown(StoredForms.Events(history))
                : DerivedEvents(state, task.CreationTime, task.StartTime, task.CompletionTime, task.Message),
        };
    }

    private static FlameEvent Event(TaskState state, string? message, long time) => new()
    {
        Code = (int)state,
        Message = message ?? DefaultMessage(state),
        CreationTime = time,
    };

    private static string DefaultMessage(TaskState state) => state switch
    {
        TaskState.Pending => "pending",
        TaskState.Running => "running",
        TaskState.Succeed => "succeeded",
        TaskState.Failed => "failed",
        _ => "cancelled",
    };

    private struct TaskRecord
    {
        public byte[]? Input;
        public byte[]? Output;
        public long CreationTime;
        public long StartTime;
        public long CompletionTime;
        public TaskState State;
        public int Attempts;
    }
}

/// <summary>A growable ring buffer of ints: 4 bytes per queued task, no per-item allocation.</summary>
internal sealed class IntQueue
{
    private int[] _items = new int[16];
    private int _head;
    private int _count;

    public int Count => _count;

    public void Enqueue(int value)
    {
        Grow();
        _items[(_head + _count) % _items.Length] = value;
        _count++;
    }

    /// <summary>Queues <paramref name="value"/> first, before everything already queued.</summary>
    public void EnqueueFirst(int value)
    {
        Grow();
        _head = (_head + _items.Length - 1) % _items.Length;
        _items[_head] = value;
        _count++;
    }

    private void Grow()
    {
        if (_count < _items.Length)
            return;
        var grown = new int[_items.Length * 2];
        var tail = _items.Length - _head;
        Array.Copy(_items, _head, grown, 0, tail);
        Array.Copy(_items, 0, grown, tail, _head);
        _items = grown;
        _head = 0;
    }

    public bool TryDequeue(out int value)
    {
        if (_count == 0)
        {
            value = 0;
            return false;
        }
        value = _items[_head];
        _head = (_head + 1) % _items.Length;
        _count--;
        return true;
    }
}
