using Flame.Grains.Sessions;
using Flame.Storage;
using Microsoft.Extensions.Logging;

namespace Flame.Grains.Security;

/// <summary>
/// Every access token, kept in the task store (written before a change is acknowledged) and in memory, by the
/// SHA-256 of its secret. See <see cref="ITokenRegistryGrain"/>.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class TokenRegistryGrain(ITaskStore store, TimeProvider clock, ILogger<TokenRegistryGrain> logger)
    : Grain, ITokenRegistryGrain
{
    /// <summary>The name of the bootstrap token (<c>Flame:Security:AdminTokenFile</c>), which no issued token may take.</summary>
    public const string BootstrapAdmin = "admin";

    /// <summary>The name of callers without a token, the owner of their sessions; no token may take it.</summary>
    public const string AnonymousName = "anonymous";

    /// <summary>How the embedded executor manager's credential is named (<c>embedded-&lt;node&gt;</c>); no token's name starts so.</summary>
    public const string EmbeddedPrefix = "embedded-";

    private readonly SortedDictionary<string, TokenRecord> _tokens = new(StringComparer.Ordinal);

    // Starts from the clock, not 0: a registry activated again (its silo died) must not repeat a version a gateway
    // already saw with another token set.
    private long _version;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _version = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var stored in await store.LoadTokensAsync(cancellationToken))
            _tokens[stored.Name] = StoredForms.Read<TokenRecord>(stored.Json);
    }

    public async Task<TokenInfo> CreateAsync(TokenInfo token, byte[] hash)
    {
        var name = FlameIds.ValidateTokenName(token.Name);
        if (name == BootstrapAdmin)
            throw FlameException.InvalidArgument($"token name '{BootstrapAdmin}' is reserved for the token of Flame:Security:AdminTokenFile");
        // A token's name is the owner of its sessions: one named as the anonymous caller or an embedded node would share theirs.
        if (name == AnonymousName)
            throw FlameException.InvalidArgument($"token name '{AnonymousName}' is reserved for callers without a token");
        if (name.StartsWith(EmbeddedPrefix, StringComparison.Ordinal))
            throw FlameException.InvalidArgument($"token name '{name}': names starting with '{EmbeddedPrefix}' are reserved for the embedded executor manager's credential");
        if (!Enum.IsDefined(token.Role))
            throw FlameException.InvalidArgument($"role {(int)token.Role} is unknown; roles are admin, user and node");
        if (token.Role == FlameRole.Node)
            FlameIds.ValidateNodeName(token.Node);
        else if (token.Node is not null)
            throw FlameException.InvalidArgument($"only a node token is bound to a node; token '{name}' has role {token.Role.ToString().ToLowerInvariant()}");
        if (hash is not { Length: 32 })
            throw FlameException.InvalidArgument("a token's hash is the 32 bytes of a SHA-256");
        if (_tokens.ContainsKey(name))
            throw FlameException.AlreadyExists($"token '{name}' already exists");
        var record = new TokenRecord { Info = token with { CreationTime = clock.GetUtcNow().ToUnixTimeMilliseconds() }, Hash = hash };
        await StoredForms.Durably(store.SaveTokenAsync(new StoredToken { Name = name, Json = StoredForms.Write(record) }));
        _tokens[name] = record;
        _version++;
        LogCreated(name, record.Info.Role);
        return record.Info;
    }

    public async Task RevokeAsync(string name)
    {
        FlameIds.ValidateTokenName(name);
        if (!_tokens.ContainsKey(name))
            throw FlameException.NotFound($"token '{name}' not found");
        await StoredForms.Durably(store.DeleteTokenAsync(name));
        _tokens.Remove(name);
        _version++;
        LogRevoked(name);
    }

    public Task<IReadOnlyList<TokenInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<TokenInfo>>([.. _tokens.Values.Select(t => t.Info)]);

    public Task<long> GetVersionAsync() => Task.FromResult(_version);

    public Task<TokenSnapshot> SnapshotAsync() =>
        Task.FromResult(new TokenSnapshot { Version = _version, Tokens = [.. _tokens.Values] });
}
