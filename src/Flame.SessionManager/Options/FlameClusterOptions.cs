using System.ComponentModel.DataAnnotations;

namespace Flame.SessionManager.Options;

/// <summary>How silos find each other and where the cluster keeps what must survive a crash.</summary>
public enum ClusterProvider
{
    /// <summary>One silo on this machine, membership in memory, nothing needed. The default.</summary>
    Localhost,

    /// <summary>Several silos, membership, reminders and grain state in PostgreSQL (Npgsql).</summary>
    Postgres,
}

/// <summary>
/// Cluster membership and its database. Bound from configuration section <c>Flame:Cluster</c>
/// (environment variables <c>Flame__Cluster__Provider</c>, …).
/// </summary>
public sealed class FlameClusterOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:Cluster";

    /// <summary><c>Localhost</c> (default: a single silo, nothing to install) or <c>Postgres</c>.</summary>
    public ClusterProvider Provider { get; set; } = ClusterProvider.Localhost;

    /// <summary>
    /// Npgsql connection string, e.g. <c>Host=db;Port=5432;Username=flame;Password=…;Database=flame</c>.
    /// Required with <c>Postgres</c>; no default.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Applies the schema scripts of <c>deploy/postgres</c> at start (idempotent; each version at most once).
    /// Default false: the schema is expected to be there (<c>deploy/postgres/apply.sh</c>). Flag <c>--init-db</c>.
    /// </summary>
    public bool InitDatabase { get; set; }

    /// <summary>
    /// The IP address other silos use to reach this one. Default: 127.0.0.1 with <c>Localhost</c>; the first
    /// non-loopback IPv4 address of the host with <c>Postgres</c>. The silo listens on this address.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// How long a silo waits for a probe answer before counting it missed. Default 2 s (Orleans: 5 s).
    /// With <see cref="MissedProbesLimit"/> 2, a dead silo is declared dead in about 4–6 s instead of ~30 s.
    /// </summary>
    [Range(1, 60)]
    public int ProbeTimeoutSeconds { get; set; } = 2;

    /// <summary>Missed probes after which a silo suspects another. Default 2 (Orleans: 3).</summary>
    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = 2;
}
