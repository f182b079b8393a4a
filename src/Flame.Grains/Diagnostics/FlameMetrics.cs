using System.Diagnostics.Metrics;

namespace Flame.Grains.Diagnostics;

/// <summary>
/// The session manager's own instruments (meter <see cref="MeterName"/>). Labels are few-valued only (application,
/// state, node): never a session or a task id. Tag lists are built once per session or per state, so that recording on
/// the hot path allocates nothing.
/// </summary>
public static class FlameMetrics
{
    /// <summary>The name of the session manager's meter: <c>Flame.SessionManager</c>.</summary>
    public const string MeterName = "Flame.SessionManager";

    internal static readonly Meter Meter = new(MeterName);

    // Seconds, from a millisecond to ten minutes: OpenTelemetry's default boundaries are meant for milliseconds.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    };

    internal static readonly Counter<long> TasksCreated = Meter.CreateCounter<long>(
        "flame.tasks.created", "{task}", "Tasks created, by application.");

    internal static readonly Counter<long> TasksStarted = Meter.CreateCounter<long>(
        "flame.tasks.started", "{task}", "Task attempts handed to an executor, by application.");

    internal static readonly Counter<long> TasksCompleted = Meter.CreateCounter<long>(
        "flame.tasks.completed", "{task}", "Tasks that reached a terminal state, by application and state (succeeded, failed, cancelled).");

    internal static readonly Histogram<double> TaskDuration = Meter.CreateHistogram(
        "flame.task.duration", "s", "From a task's last start to its result, by application and state.", advice: Seconds);

    internal static readonly Histogram<double> TaskQueueWait = Meter.CreateHistogram(
        "flame.task.queue_wait", "s", "From a task's creation to its start on an executor, by application.", advice: Seconds);

    internal static readonly Counter<long> ExecutorBinds = Meter.CreateCounter<long>(
        "flame.executor.binds", "{bind}", "Executors bound to a session (the service entered it).");

    internal static readonly Histogram<double> ExecutorBindLatency = Meter.CreateHistogram(
        "flame.executor.bind.duration", "s", "From an executor's assignment to a session to its bind completing.", advice: Seconds);

    internal static readonly Counter<long> ExecutorBindFailures = Meter.CreateCounter<long>(
        "flame.executor.bind_failures", "{bind}", "Binds that failed (the service did not enter the session).");

    internal static readonly Counter<long> Preemptions = Meter.CreateCounter<long>(
        "flame.scheduler.preemptions", "{preemption}", "Executors the scheduler took from one session for another.");

    internal static readonly Histogram<double> SchedulerPass = Meter.CreateHistogram(
        "flame.scheduler.pass.duration", "s", "One scheduling pass: planning and carrying out its actions.", advice: Seconds);

    /// <summary>The tag of each task state, built once.</summary>
    internal static readonly KeyValuePair<string, object?>[] StateTags =
        [.. Enum.GetValues<TaskState>().Order().Select(s => new KeyValuePair<string, object?>("state", StateName(s)))];

    /// <summary>The tag of each executor state, built once.</summary>
    internal static readonly KeyValuePair<string, object?>[] ExecutorStateTags =
        [.. Enum.GetValues<ExecutorState>().Order().Select(s => new KeyValuePair<string, object?>("state", s.ToString().ToLowerInvariant()))];

    static FlameMetrics()
    {
        Meter.CreateObservableGauge("flame.tasks.active", SessionMetrics.ObserveTasks, "{task}",
            "Pending and running tasks of the sessions active on this silo, by application and state.");
        Meter.CreateObservableGauge("flame.sessions.active", SessionMetrics.ObserveSessions, "{session}",
            "Sessions active on this silo, by state (open, closed).");
        Meter.CreateObservableGauge("flame.executors", ExecutorMetrics.Observe, "{executor}",
            "Executors held by this silo, by state.");
    }

    /// <summary>The name a task state has in the metrics: pending, running, succeeded, failed, cancelled.</summary>
    public static string StateName(TaskState state) => state switch
    {
        TaskState.Pending => "pending",
        TaskState.Running => "running",
        TaskState.Succeed => "succeeded",
        TaskState.Failed => "failed",
        TaskState.Cancelled => "cancelled",
        _ => state.ToString().ToLowerInvariant(),
    };
}
