using System.ComponentModel.DataAnnotations;

namespace Flame.Grains.Hosting;

/// <summary>
/// Limits on what clients send and hold, enforced by the grains so that both transports (gRPC and the
/// in-process client) refuse the same requests (the per-connection ones by the gateway). Bound from configuration
/// section <c>Flame:Limits</c>.
/// </summary>
public sealed class FlameLimitsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:Limits";

    /// <summary>Largest task input in bytes. Default 4 MiB.</summary>
    [Range(1, 256 * 1024 * 1024)]
    public int MaxTaskInputBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest task output in bytes. Default 16 MiB.</summary>
    [Range(1, 256 * 1024 * 1024)]
    public int MaxTaskOutputBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest session common data in bytes. Default 16 MiB.</summary>
    [Range(1, 256 * 1024 * 1024)]
    public int MaxCommonDataBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// A finished task's input or output of at least this many bytes leaves the session grain's memory once the task
    /// store has it, and is read back from the store when asked for (GetTask, WatchTask, ListTask), so that a session
    /// of millions of large results does not hold them all in memory; smaller ones stay for fast reads.
    /// Default 1024 (1 KiB).
    /// </summary>
    [Range(0, int.MaxValue)]
    public int FinishedPayloadInMemoryBytes { get; set; } = 1024;

    /// <summary>
    /// Most tasks one session may hold Pending (queued, not yet handed to an executor); a CreateTask or CreateTasks
    /// beyond it is refused with ResourceExhausted and creates nothing. A pending task costs its session grain about
    /// 52 bytes plus its input, so the default bounds the queue of one session to about half a gigabyte of records
    /// while leaving room for the sessions of millions of tasks that Flame's workloads make. Default 10,000,000.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxPendingTasksPerSession { get; set; } = 10_000_000;

    /// <summary>
    /// Most tasks one CreateTasks call (ext.proto) may create: a call is one grain turn and one store flush, so a
    /// bounded call keeps the session and the store's group commit responsive. Default 10,000.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxTasksPerCreateTasks { get; set; } = 10_000;

    /// <summary>Largest application description, in UTF-8 bytes. Default 4096.</summary>
    [Range(0, 16 * 1024 * 1024)]
    public int MaxApplicationDescriptionBytes { get; set; } = 4096;

    /// <summary>Most labels of one application. Default 64.</summary>
    [Range(0, 100_000)]
    public int MaxApplicationLabels { get; set; } = 64;

    /// <summary>Largest application label, in UTF-8 bytes. Default 256.</summary>
    [Range(1, 1024 * 1024)]
    public int MaxApplicationLabelBytes { get; set; } = 256;

    /// <summary>Most arguments of an application's command. Default 1024.</summary>
    [Range(0, 100_000)]
    public int MaxApplicationArguments { get; set; } = 1024;

    /// <summary>Largest sum of an application's arguments, in UTF-8 bytes. Default 65536 (64 KiB).</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxApplicationArgumentsBytes { get; set; } = 64 * 1024;

    /// <summary>Most environment variables of one application. Default 256.</summary>
    [Range(0, 100_000)]
    public int MaxApplicationEnvironments { get; set; } = 256;

    /// <summary>Largest sum of an application's environment names and values, in UTF-8 bytes. Default 65536 (64 KiB).</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxApplicationEnvironmentBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Largest command, working_directory, image, url or installer of an application, each in UTF-8 bytes.
    /// Default 4096 (Linux's PATH_MAX).
    /// </summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxApplicationFieldBytes { get; set; } = 4096;

    /// <summary>Largest schema of an application (input, output or common data, each), in UTF-8 bytes. Default 65536 (64 KiB).</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxApplicationSchemaBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Most WatchTask, WatchSession and WatchNode streams open at once on one HTTP/2 connection to a gateway; one more
    /// is refused with ResourceExhausted. Watches are long-lived, so the default leaves half of the connection's
    /// 10,000 HTTP/2 streams to the calls that make the watched tasks progress, while a client that watches thousands
    /// of tasks at once (one WatchTask per task it runs) keeps working. Enforced by the gateway; the in-process
    /// client has no connection. Default 5,000.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxWatchStreamsPerConnection { get; set; } = 5_000;

    /// <summary>
    /// Open sessions one owner (the gateway caller that created them: a token's name, or <c>anonymous</c>) may hold at
    /// once; one more is refused with RESOURCE_EXHAUSTED. Sessions created in-process have no owner and no limit.
    /// Default 10000.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxOpenSessionsPerOwner { get; set; } = 10_000;

    /// <summary>
    /// How long a session grain with nothing to do (no pending or running task, no executor, no watcher, nothing left
    /// to write) stays in memory after its last call; it is then deactivated, and comes back from the task store when
    /// something needs it. Default 2 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan IdleSessionLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Most sessions one unary ListSession answers (the oldest first); the answer also stays under 3.5 MiB, below the
    /// 4 MiB that gRPC clients accept by default. A cut answer says so in its status message; FrontendExt.ListSessions
    /// (<c>flmctl list -s</c>) pages through all. Default 10,000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxSessionsPerList { get; set; } = 10_000;

    /// <summary>
    /// How long a closed session and its tasks are kept after the close; older ones are deleted from the task store
    /// (checked every minute). Zero keeps them until deleted by hand (<c>flmctl prune</c>, DeleteSession). Default zero.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "36500.00:00:00")]
    public TimeSpan ClosedSessionRetention { get; set; } = TimeSpan.Zero;

    /// <summary>The largest of the limits: what a transport must be able to carry in one message.</summary>
    public int LargestPayloadBytes => Math.Max(MaxTaskInputBytes, Math.Max(MaxTaskOutputBytes, MaxCommonDataBytes));
}
