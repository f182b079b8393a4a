using System.ComponentModel.DataAnnotations;

namespace Flame.ObjectCache.Hosting;

/// <summary>Which objects the cache drops from memory when it is over its limits.</summary>
public enum EvictionPolicy
{
    /// <summary>The least recently used object's payload first (a read, a put or a patch makes it the most recent). The default.</summary>
    Lru,

    /// <summary>Nothing is ever dropped from memory: the limits are not enforced.</summary>
    None,
}

/// <summary>
/// Flame's object cache in the session manager: an Arrow Flight server on its own port. Bound from configuration section
/// <c>Flame:ObjectCache</c> (environment variables <c>Flame__ObjectCache__Endpoint</c>, …).
/// </summary>
public sealed class FlameObjectCacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Flame:ObjectCache";

    /// <summary>
    /// Where the Flight server listens: <c>grpc://HOST:PORT</c> (plaintext HTTP/2) or <c>grpcs://HOST:PORT</c> (TLS, with
    /// <see cref="CertificateFile"/> and <see cref="KeyFile"/>); <c>none</c> turns the cache off. HOST is an IP address to
    /// listen on, <c>localhost</c> for loopback, or a name (then every interface). Default <c>grpc://127.0.0.1:9090</c>, the
    /// endpoint Flame's clients use when nothing is configured.
    /// </summary>
    public string Endpoint { get; set; } = "grpc://127.0.0.1:9090";

    /// <summary>
    /// The URI put in every object ref, which clients and services use for later reads and updates: it must reach this
    /// cache from everywhere. Default: derived from <see cref="Endpoint"/> (<c>grpcs</c> becomes <c>grpc+tls</c>); its host
    /// is the first IPv4 address of the first interface matching <see cref="NetworkInterface"/> when that is set, else
    /// the first non-loopback IPv4 address when the endpoint listens on every interface, else the endpoint's host.
    /// </summary>
    public string? AdvertisedEndpoint { get; set; }

    /// <summary>
    /// A regular expression over network interface names (Flame's <c>network_interface</c>, e.g. <c>eth0</c>): the cache
    /// listens on, and advertises, the first IPv4 address of the first matching interface. Default: not set.
    /// </summary>
    public string? NetworkInterface { get; set; }

    /// <summary>PEM certificate for a <c>grpcs://</c> endpoint; required then, unused otherwise. No default.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="CertificateFile"/>. No default.</summary>
    public string? KeyFile { get; set; }

    /// <summary><c>Lru</c> (default) or <c>None</c>: what is dropped from memory when over the limits.</summary>
    public EvictionPolicy Eviction { get; set; } = EvictionPolicy.Lru;

    /// <summary>
    /// The payload bytes this silo keeps in memory before it drops the least recently used (from memory only: the
    /// store keeps every object). Flame's notation: a number of bytes, or with K/M/G/T suffix (binary units, optional
    /// <c>B</c>/<c>iB</c>). Default <c>1G</c>.
    /// </summary>
    public string MaxMemory { get; set; } = "1G";

    /// <summary>The objects this silo keeps in memory at most. Default 0: no limit.</summary>
    [Range(0, int.MaxValue)]
    public int MaxObjects { get; set; }

    /// <summary>
    /// The largest object (or patch) accepted, in bytes: grains exchange payloads in one message across silos. Default
    /// 256 MiB; at most 2 GiB − 1 (one Arrow Binary value).
    /// </summary>
    [Range(1024, int.MaxValue)]
    public int MaxObjectBytes { get; set; } = 256 * 1024 * 1024;

    /// <summary>Patches one object holds at most; the next patch is refused (Flame's limit). Default 1000.</summary>
    [Range(1, 1_000_000)]
    public int MaxPatches { get; set; } = 1000;

    /// <summary>
    /// Deletes a session's objects (<c>app/session/*</c>) when the session is deleted; Flame keeps them until a DELETE
    /// names them. Default false (Flame's behaviour).
    /// </summary>
    public bool DeleteWithSession { get; set; }

    /// <summary>Whether the cache is on (<see cref="Endpoint"/> is not <c>none</c>).</summary>
    public bool Enabled => !string.Equals(Endpoint, "none", StringComparison.OrdinalIgnoreCase);
}
