namespace Flame.SessionManager.Options;

/// <summary>Where sessions, tasks and applications are kept.</summary>
public enum StorageProvider
{
    /// <summary>Sqlite with <see cref="ClusterProvider.Localhost"/>, Postgres with <see cref="ClusterProvider.Postgres"/>. The default.</summary>
    Auto,

    /// <summary>A SQLite file in <see cref="FlameStorageOptions.DataDirectory"/>: the durable single-node default.</summary>
    Sqlite,

    /// <summary>Our tables in the cluster's PostgreSQL database (<c>Flame:Cluster:ConnectionString</c>).</summary>
    Postgres,

    /// <summary>Nothing kept: everything is lost when the process stops. For tests and throwaway runs.</summary>
    Memory,
}

/// <summary>
/// The task store. Bound from configuration section <c>Flame:Storage</c> (environment variables
/// <c>Flame__Storage__Provider</c>, …).
/// </summary>
public sealed class FlameStorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:Storage";

    /// <summary><c>Auto</c> (default), <c>Sqlite</c>, <c>Postgres</c> or <c>Memory</c>.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Auto;

    /// <summary>
    /// The directory of the SQLite file (<c>flame.db</c>). Default <c>~/.flame/data</c>; created if missing. Two session
    /// managers must not share one.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>The directory used when <see cref="DataDirectory"/> is not set.</summary>
    public static string DefaultDataDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".flame", "data");
}
