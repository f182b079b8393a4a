using System.ComponentModel.DataAnnotations;

namespace Flame.Grains.Hosting;

/// <summary>
/// How tasks and executors are run: retries, waits and timeouts. Bound from configuration section
/// <c>Flame:Execution</c>.
/// </summary>
public sealed class FlameExecutionOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:Execution";

    /// <summary>
    /// Attempts a task gets before it is Failed when the system fails it: its service crashed, could not be reached
    /// or was killed at its timeout, or its executor or node was lost. A service's own error result fails the task at
    /// once, as in Flame, unless <see cref="RetryApplicationErrors"/> is set. Default 3.
    /// </summary>
    [Range(1, 100)]
    public int MaxTaskAttempts { get; set; } = 3;

    /// <summary>
    /// Whether a service's error result (a non-zero return code) counts as a failed attempt and is retried up to
    /// <see cref="MaxTaskAttempts"/>, as system failures are. Flame fails the task at once. Default false.
    /// </summary>
    public bool RetryApplicationErrors { get; set; }

    /// <summary>
    /// The resource requirement of a session that names none (Flame's <c>cluster.resreq</c>), in Flame's syntax:
    /// <c>cpu=1,mem=1g,gpu=0</c>; cpu in whole cores. It is stored with the session and returned in its spec.
    /// Default <c>cpu=1,mem=1g</c>, Flame's.
    /// </summary>
    public string DefaultResReq { get; set; } = ResourceRequirements.FlameDefault;

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

    /// <summary>
    /// Consecutive failures to enter a session (the service did not start, or OnSessionEnter failed) after which the
    /// session gets no more executors (Flame's <c>recovery.session.retry_limits</c>, event 1002): its pending tasks
    /// wait until it is closed, or fail with <see cref="FailPendingTasksAtBindingLimit"/>. Default 5, Flame's.
    /// </summary>
    [Range(1, 100)]
    public int MaxBindingFailures { get; set; } = 5;

    /// <summary>
    /// Whether reaching <see cref="MaxBindingFailures"/> fails the session's pending tasks with the last error instead
    /// of pausing the session, so that clients stop waiting; the count starts again and later tasks are tried again.
    /// Flame keeps them Pending and pauses the session. Default false.
    /// </summary>
    public bool FailPendingTasksAtBindingLimit { get; set; }

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

    /// <summary><see cref="DefaultResReq"/>, parsed.</summary>
    public ResourceRequirement DefaultResourceRequirement => ResourceRequirements.Parse(DefaultResReq);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ResourceRequirements.TryParse(DefaultResReq, out _, out var error))
            yield return new ValidationResult(error, [nameof(DefaultResReq)]);
    }
}
