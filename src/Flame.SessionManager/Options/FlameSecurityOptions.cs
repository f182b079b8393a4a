namespace Flame.SessionManager.Options;

/// <summary>What a caller that presents no credential may do.</summary>
public enum AnonymousAccess
{
    /// <summary>Nothing: every call needs a token (<c>UNAUTHENTICATED</c> otherwise).</summary>
    None,

    /// <summary>What a <c>user</c> may do: sessions and tasks of registered applications.</summary>
    User,

    /// <summary>Everything: the embedded default on loopback, as Flame's own session manager.</summary>
    Admin,
}

/// <summary>
/// TLS, authentication and authorization of the gateway and the silo. Bound from configuration section
/// <c>Flame:Security</c> (environment variables <c>Flame__Security__Anonymous</c>, …).
/// </summary>
public sealed class FlameSecurityOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:Security";

    /// <summary>
    /// What a caller without a token may do: <c>None</c>, <c>User</c> or <c>Admin</c>. Default: <c>Admin</c> when the
    /// gateway listens on loopback only (the one-command embedded default, as easy as Flame's), else <c>None</c>.
    /// </summary>
    public AnonymousAccess? Anonymous { get; set; }

    /// <summary>
    /// A file holding the bootstrap administrator token (one line). The token is hashed at start and never logged.
    /// Default: none (only tokens issued with <c>flmctl token create</c> are accepted).
    /// </summary>
    public string? AdminTokenFile { get; set; }

    /// <summary>
    /// Lets a gateway or silo that listens beyond loopback start without TLS and authentication. Default false: such
    /// a process refuses to start, with one line saying what is missing.
    /// </summary>
    public bool AllowInsecure { get; set; }

    /// <summary>
    /// TLS of the gateway (and, in a PostgreSQL cluster, of silo-to-silo and Orleans client traffic). Default: no
    /// certificate, key or CA (plaintext).
    /// </summary>
    public FlameTlsOptions Tls { get; set; } = new();
}

/// <summary>Certificates in PEM files. Bound from <c>Flame:Security:Tls</c>.</summary>
public sealed class FlameTlsOptions
{
    /// <summary>The PEM certificate (chain) the gateway presents on its <c>https://</c> endpoint. Default: none.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertificateFile"/>. Default: none.</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// The PEM CA that signed the cluster's certificates: silos verify each other against it (mutual TLS) and the
    /// embedded executor manager verifies the gateway with it. Default: none.
    /// </summary>
    public string? CaFile { get; set; }
}
