namespace Flame.Grains;

/// <summary>
/// The access tokens of the gateway, kept in the task store (hashed) and in memory. One activation, key <see cref="Key"/>:
/// tokens are few, and gateways read them only when they change (see <see cref="GetVersionAsync"/>).
/// </summary>
[Alias("flame.ITokenRegistryGrain")]
public interface ITokenRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>The key of the one registry.</summary>
    public const long Key = 0;

    /// <summary>
    /// Records a new token by the SHA-256 of its secret (the secret itself never reaches the registry); AlreadyExists
    /// if the name is taken, InvalidArgument for a bad name, a node token without a node or a node on another role.
    /// </summary>
    [Alias("Create")] Task<TokenInfo> CreateAsync(TokenInfo token, byte[] hash);
    /// <summary>Removes a token; NotFound if unknown.</summary>
    [Alias("Revoke")] Task RevokeAsync(string name);
    /// <summary>Every token, by name, without hashes.</summary>
    [Alias("List")] Task<IReadOnlyList<TokenInfo>> ListAsync();
    /// <summary>The version of the token set: gateways poll it and read <see cref="SnapshotAsync"/> only when it moved.</summary>
    [Alias("GetVersion")] Task<long> GetVersionAsync();
    /// <summary>Every token with its hash, and the version they are of.</summary>
    [Alias("Snapshot")] Task<TokenSnapshot> SnapshotAsync();
}
