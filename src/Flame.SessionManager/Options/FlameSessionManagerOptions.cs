using System.ComponentModel.DataAnnotations;

namespace Flame.SessionManager.Options;

/// <summary>
/// Where the gateway listens and how the silo joins its cluster. Bound from configuration section
/// <c>Flame:SessionManager</c> (environment variables <c>Flame__SessionManager__Endpoint</c>, …).
/// </summary>
public sealed class FlameSessionManagerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:SessionManager";

    /// <summary>The gRPC gateway's address, plaintext HTTP/2. Default <c>http://127.0.0.1:8080</c>, as in Flame.</summary>
    [Required]
    public string Endpoint { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// The Backend's own address (plaintext HTTP/2, like <see cref="Endpoint"/>), where Flame's executor managers look for
    /// it: only the Backend (and BackendExt) is served there. Default: the frontend's port + 1 on the same address
    /// (<c>http://127.0.0.1:8081</c>), as in Flame; none when the frontend's port is 0. <c>none</c> turns it off; the
    /// frontend's port serves the Backend either way.
    /// </summary>
    public string? BackendEndpoint { get; set; }

    /// <summary>Orleans cluster id: silos with the same id form one cluster. Default <c>flame</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]+$")]
    public string ClusterId { get; set; } = "flame";

    /// <summary>Orleans service id: the identity of stored state across cluster restarts. Default <c>flame</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]+$")]
    public string ServiceId { get; set; } = "flame";

    /// <summary>This silo's name in the cluster (membership, <c>flmctl health</c>). Default: the host name.</summary>
    [RegularExpression("^[A-Za-z0-9._-]+$")]
    public string? Name { get; set; }

    /// <summary>The silo-to-silo port. Default 11111.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>The Orleans client gateway port, for in-process .NET clients next to the cluster. Default 30000.</summary>
    [Range(1, 65535)]
    public int OrleansGatewayPort { get; set; } = 30000;

    /// <summary>
    /// Runs an executor manager inside this process (same code as the standalone one, configured by section
    /// <c>Flame:ExecutorManager</c>, connecting to this gateway), so that one command gives a cluster that runs
    /// tasks. Default true; turn it off when executor managers run on their own nodes.
    /// </summary>
    public bool EmbeddedExecutorManager { get; set; } = true;

    /// <summary>
    /// How long the gateway keeps sending again a grain call that failed because a silo died or a grain moved (with
    /// back-off from 100 ms to 2 s), waiting for the membership to settle, before the client gets UNAVAILABLE. Calls
    /// that may have run are sent again only when that is safe (see the README, "Durability and several silos").
    /// Default 30 s (longer than the default time to declare a silo dead); 0 turns it off.
    /// </summary>
    public TimeSpan GrainCallRetryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Registers the built-in <c>flmping</c> application (a no-op service) at start if it is absent. Default true.</summary>
    public bool RegisterBuiltInApplications { get; set; } = true;
}
