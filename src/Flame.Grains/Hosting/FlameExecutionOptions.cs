using System.ComponentModel.DataAnnotations;

namespace Flame.Grains.Hosting;

/// <summary>
/// How tasks and executors are run: retries, waits and timeouts. Bound from configuration section
/// <c>Flame:Execution</c>.
/// </summary>
public sealed class FlameExecutionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:Execution";

    /// <summary>Attempts a task gets before it is Failed (a failed attempt: an error result, a crash, a timeout, a lost executor). Default 3.</summary>
    [Range(1, 100)]
    public int MaxTaskAttempts { get; set; } = 3;

    /// <summary>Seconds a bound executor waits for more tasks before it unbinds, for applications that set no delay_release. Default 5.</summary>
    [Range(0, 86_400)]
    public int DefaultDelayReleaseSeconds { get; set; } = 5;

    /// <summary>Seconds an idle (unbound) executor waits for a session before it is released. Default 60.</summary>
    [Range(1, 86_400)]
    public int ExecutorIdleTimeoutSeconds { get; set; } = 60;

    /// <summary>Seconds without a heartbeat after which a node is NotReady and its executors are lost. Default 10.</summary>
    [Range(1, 3_600)]
    public int NodeHeartbeatTimeoutSeconds { get; set; } = 10;

    /// <summary>Seconds a node has to register an executor it was asked to create. Default 30.</summary>
    [Range(1, 3_600)]
    public int ExecutorCreateTimeoutSeconds { get; set; } = 30;

    /// <summary>Consecutive failures to enter a session (the service did not start) after which its pending tasks are Failed. Default 3.</summary>
    [Range(1, 100)]
    public int MaxBindingFailures { get; set; } = 3;

    /// <summary>
    /// Keep every application's service process after a session for the next session of the same application (it
    /// enters that session with OnSessionEnter, without a restart), as the application label <c>reuse-services</c>
    /// does for one application. Default false, as in Flame: a fresh service process per session.
    /// </summary>
    public bool ReuseServices { get; set; }

    /// <summary>
    /// Longest single wait inside a grain call of a long-poll (LaunchTask, BindExecutor); longer waits
    /// are made of several polls. Must stay below Orleans' response timeout (30 s). Default 10 s.
    /// </summary>
    public TimeSpan LongPollSlice { get; set; } = TimeSpan.FromSeconds(10);
}
