using System.Security.Cryptography;
using Flame.Grains;
using Flame.SessionManager.Hosting;
using Flame.SessionManager.Options;

namespace Flame.SessionManager.Security;

/// <summary>
/// Turns an <c>authorization</c> header into a <see cref="Caller"/> without a grain call on the hot path: every token
/// the cluster knows is held here by the SHA-256 of its secret, refreshed from the token registry when its version
/// moves (polled every <see cref="PollInterval"/>, and at once after a create or revoke through this gateway), so a
/// revoked token stops working on every silo within about a second.
/// </summary>
public sealed partial class TokenAuthenticator
{
    private readonly ResolvedSecurity _security;
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _clock;
    private readonly ILogger<TokenAuthenticator> _logger;

    /// <summary>Accepts the tokens of the registry, the bootstrap admin token and the <paramref name="locals"/>.</summary>
    public TokenAuthenticator(
        ResolvedSecurity security, IGrainFactory grains, TimeProvider clock, ILogger<TokenAuthenticator> logger, IEnumerable<LocalToken> locals)
    {
        _security = security;
        _grains = grains;
        _clock = clock;
        _logger = logger;
        foreach (var local in locals)
        {
            var hash = TokenSecrets.Hash(local.Secret);
            _local[Key(hash)] = new Entry(hash, local.Caller);
        }
    }

    /// <summary>How often the registry's version is read: the longest a revoked token keeps working on another silo.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>An unknown token makes at most one registry read per this interval (a flood of bad tokens costs the registry nothing).</summary>
    private static readonly TimeSpan MissRefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile Known _known = new(long.MinValue, new Dictionary<string, Entry>(StringComparer.Ordinal));
    // Written in the constructor only.
    private readonly Dictionary<string, Entry> _local = new(StringComparer.Ordinal);
    private long _lastRefresh = long.MinValue;

    private sealed record Entry(byte[] Hash, Caller Caller);

    private sealed record Known(long Version, Dictionary<string, Entry> ByHash);

    /// <summary>What a caller without a token may do.</summary>
    public AnonymousAccess Anonymous => _security.Anonymous;

    /// <summary>
    /// The caller behind <paramref name="authorization"/> (the metadata's value, or null when absent).
    /// </summary>
    /// <exception cref="FlameException">Unauthenticated: no token where one is needed, or a token no one issued;
    /// Unavailable: the token is not cached and the registry cannot be read.</exception>
    public async ValueTask<Caller> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(authorization))
        {
            return _security.Anonymous switch
            {
                AnonymousAccess.Admin => AnonymousAdmin,
                AnonymousAccess.User => AnonymousUser,
                _ => throw FlameException.Unauthenticated(
                    "no token: this gateway needs 'authorization: Bearer <token>' (Flame:Security:Anonymous is None)"),
            };
        }
        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length == scheme.Length)
            throw FlameException.Unauthenticated("the authorization metadata is not 'Bearer <token>'");
        var hash = TokenSecrets.Hash(authorization[scheme.Length..].Trim());
        if (Find(hash) is { } caller)
            return caller;
        // Issued a moment ago through another gateway? Read the registry once, then decide.
        await RefreshAsync(force: false, cancellationToken);
        return Find(hash) ?? throw FlameException.Unauthenticated("invalid or revoked token");
    }

    private static readonly Caller AnonymousAdmin = new(Caller.AnonymousName, FlameRole.Admin, null, Anonymous: true);
    private static readonly Caller AnonymousUser = new(Caller.AnonymousName, FlameRole.User, null, Anonymous: true);

    private Caller? Find(byte[] hash)
    {
        var key = Key(hash);
        // The dictionary finds the candidate by its hash; the bytes are then compared in constant time. Only hashes
        // of secrets are ever compared, so timing tells an attacker nothing about a secret.
        if (_security.AdminTokenHash is { } admin && CryptographicOperations.FixedTimeEquals(admin, hash))
            return BootstrapAdmin;
        if (!_local.TryGetValue(key, out var entry))
            _known.ByHash.TryGetValue(key, out entry);
        return entry is not null && CryptographicOperations.FixedTimeEquals(entry.Hash, hash) ? entry.Caller : null;
    }

    private static readonly Caller BootstrapAdmin = new(Grains.Security.TokenRegistryGrain.BootstrapAdmin, FlameRole.Admin, null, Anonymous: false);

    /// <summary>
    /// Reads the registry's version and, when it moved, its tokens. Without <paramref name="force"/> it does nothing if
    /// it ran less than a quarter of a second ago (the miss path).
    /// </summary>
    /// <exception cref="FlameException">Unavailable: the registry cannot be read.</exception>
    public async Task RefreshAsync(bool force, CancellationToken cancellationToken)
    {
        var started = _clock.GetTimestamp();
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            // Another caller refreshed while this one waited: its answer is as fresh as one more would be.
            var last = Interlocked.Read(ref _lastRefresh);
            if (last != long.MinValue && (last > started || (!force && _clock.GetElapsedTime(last) < MissRefreshInterval)))
                return;
            var registry = _grains.GetGrain<ITokenRegistryGrain>(ITokenRegistryGrain.Key);
            try
            {
                var version = await registry.GetVersionAsync();
                if (version != _known.Version)
                {
                    var snapshot = await registry.SnapshotAsync();
                    var byHash = new Dictionary<string, Entry>(snapshot.Tokens.Count, StringComparer.Ordinal);
                    foreach (var token in snapshot.Tokens)
                        byHash[Key(token.Hash)] = new Entry(token.Hash, new Caller(token.Info.Name, token.Info.Role, token.Info.Node, Anonymous: false));
                    _known = new Known(snapshot.Version, byHash);
                    LogRefreshed(snapshot.Version, byHash.Count);
                }
            }
            catch (Exception ex) when (ex is not FlameException and not OperationCanceledException)
            {
                throw FlameException.Unavailable($"the token registry cannot be read: {ex.Message}");
            }
            Interlocked.Exchange(ref _lastRefresh, _clock.GetTimestamp());
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private static string Key(byte[] hash) => Convert.ToBase64String(hash);
}

/// <summary>
/// A token accepted by this gateway only, until the process ends; never stored. The embedded executor manager's node
/// credential when the gateway is secured.
/// </summary>
/// <param name="Secret">The bearer token.</param>
/// <param name="Caller">Who presents it.</param>
public sealed record LocalToken(string Secret, Caller Caller);

/// <summary>The security settings as the gateway applies them: the anonymous role resolved, the admin token hashed.</summary>
/// <param name="Anonymous">What a caller without a token may do.</param>
/// <param name="AdminTokenHash">SHA-256 of the bootstrap admin token, if a file gives one.</param>
public sealed record ResolvedSecurity(AnonymousAccess Anonymous, byte[]? AdminTokenHash)
{
    /// <summary>
    /// Resolves <paramref name="options"/> for a gateway on <paramref name="endpoint"/> (and its Backend port on
    /// <paramref name="backend"/>, if it has one): the anonymous role defaults to Admin only when both listen on loopback,
    /// else None; the admin token file is read now, so that a missing one stops the start.
    /// </summary>
    /// <exception cref="FlameConfigurationException">The admin token file cannot be read or is empty.</exception>
    public static ResolvedSecurity Resolve(FlameSecurityOptions options, GatewayEndpoint endpoint, GatewayEndpoint? backend = null)
    {
        var loopback = endpoint.IsLoopback && backend is null or { IsLoopback: true };
        var anonymous = options.Anonymous ?? (loopback ? AnonymousAccess.Admin : AnonymousAccess.None);
        byte[]? hash = null;
        if (options.AdminTokenFile is { Length: > 0 } file)
        {
            string token;
            try
            {
                token = File.ReadAllText(file).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new FlameConfigurationException($"configuration key '{FlameSecurityOptions.Section}:AdminTokenFile': {ex.Message}");
            }
            if (token.Length == 0 || token.Contains('\n'))
                throw new FlameConfigurationException(
                    $"configuration key '{FlameSecurityOptions.Section}:AdminTokenFile': '{file}' must hold the token alone on one line");
            hash = TokenSecrets.Hash(token);
        }
        return new ResolvedSecurity(anonymous, hash);
    }
}
