using System.ComponentModel.DataAnnotations;

namespace Flame.Grains.Hosting;

/// <summary>
/// Size limits on what clients send, enforced by the grains so that both transports (gRPC and the
/// in-process client) refuse the same requests. Bound from configuration section <c>Flame:Limits</c>.
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
    /// Open sessions one owner (the gateway caller that created them: a token's name, or <c>anonymous</c>) may hold at
    /// once; one more is refused with RESOURCE_EXHAUSTED. Sessions created in-process have no owner and no limit.
    /// Default 10000.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxOpenSessionsPerOwner { get; set; } = 10_000;

    /// <summary>The largest of the limits: what a transport must be able to carry in one message.</summary>
    public int LargestPayloadBytes => Math.Max(MaxTaskInputBytes, Math.Max(MaxTaskOutputBytes, MaxCommonDataBytes));
}
