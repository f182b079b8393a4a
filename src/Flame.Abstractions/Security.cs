namespace Flame;

/// <summary>What a caller of the gateway may do (see the README's Authorization table).</summary>
public enum FlameRole
{
    /// <summary>Sessions and tasks of registered applications, only the sessions it created; reads applications without their environment values.</summary>
    User = 0,
    /// <summary>An executor manager: the Backend calls of its own node and of the executors on it, nothing else.</summary>
    Node = 1,
    /// <summary>Everything: applications, nodes, tokens, any session.</summary>
    Admin = 2,
}

/// <summary>An access token as listed: never its secret.</summary>
[GenerateSerializer, Immutable, Alias("flame.TokenInfo")]
public sealed record TokenInfo
{
    /// <summary>The token's unique name; the caller's name in audit lines and refusals, and the owner of the sessions it creates.</summary>
    [Id(0)] public required string Name { get; init; }
    /// <summary>What it may do.</summary>
    [Id(1)] public required FlameRole Role { get; init; }
    /// <summary>For a <see cref="FlameRole.Node"/> token, the one node it may act for; null otherwise.</summary>
    [Id(2)] public string? Node { get; init; }
    /// <summary>Unix epoch milliseconds.</summary>
    [Id(3)] public long CreationTime { get; init; }
}

/// <summary>A token with the SHA-256 of its secret, as the registry keeps and the gateways cache it.</summary>
[GenerateSerializer, Immutable, Alias("flame.TokenRecord")]
public sealed record TokenRecord
{
    /// <summary>Name, role, node.</summary>
    [Id(0)] public required TokenInfo Info { get; init; }
    /// <summary>SHA-256 of the secret's UTF-8 bytes (32 bytes).</summary>
    [Id(1)] public required byte[] Hash { get; init; }
}

/// <summary>The tokens known to the cluster and a version that changes with every create and revoke.</summary>
[GenerateSerializer, Immutable, Alias("flame.TokenSnapshot")]
public sealed record TokenSnapshot
{
    /// <summary>Increases with every change; a gateway that saw this version has nothing to refresh.</summary>
    [Id(0)] public required long Version { get; init; }
    /// <summary>Every token, by name.</summary>
    [Id(1)] public required IReadOnlyList<TokenRecord> Tokens { get; init; }
}

/// <summary>How token secrets are made and compared: only their SHA-256 is ever kept.</summary>
public static class TokenSecrets
{
    /// <summary>The prefix of secrets made here, so that a leaked one is recognisable in a scan.</summary>
    public const string Prefix = "flm_";

    /// <summary>A new secret: 32 random bytes, base64url, after <see cref="Prefix"/>.</summary>
    public static string NewSecret()
    {
        Span<byte> bytes = stackalloc byte[32];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return Prefix + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>SHA-256 of the secret's UTF-8 bytes. A high-entropy secret needs no salt or slow hash.</summary>
    public static byte[] Hash(string secret) => System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret));
}
