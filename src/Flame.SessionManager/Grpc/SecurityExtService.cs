using Flame.Grains;
using Flame.SessionManager.Security;
using Flame.V1;
using Grpc.Core;

namespace Flame.SessionManager.Grpc;

/// <summary>The gateway's access tokens (ext.proto SecurityExt): admin only, by the method table.</summary>
internal sealed class SecurityExtService(IGrainFactory grains, TokenAuthenticator authenticator) : SecurityExt.SecurityExtBase
{
    private ITokenRegistryGrain Registry => grains.GetGrain<ITokenRegistryGrain>(ITokenRegistryGrain.Key);

    public override async Task<CreateTokenResponse> CreateToken(CreateTokenRequest request, ServerCallContext context)
    {
        var role = ParseRole(request.Role);
        var secret = TokenSecrets.NewSecret();
        await Registry.CreateAsync(
            new TokenInfo { Name = request.Name, Role = role, Node = request.Node.Length > 0 ? request.Node : null },
            TokenSecrets.Hash(secret));
        // Usable through this gateway as soon as the caller has it.
        await authenticator.RefreshAsync(force: true, context.CancellationToken);
        return new CreateTokenResponse { Token = secret };
    }

    public override async Task<TokenList> ListTokens(ListTokensRequest request, ServerCallContext context)
    {
        var list = new TokenList();
        foreach (var token in await Registry.ListAsync())
        {
            list.Tokens.Add(new TokenSummary
            {
                Name = token.Name,
                Role = Caller.RoleName(token.Role),
                Node = token.Node ?? "",
                CreationTime = token.CreationTime,
            });
        }
        return list;
    }

    public override async Task<Result> RevokeToken(RevokeTokenRequest request, ServerCallContext context)
    {
        await Registry.RevokeAsync(request.Name);
        // Refused by this gateway from now on; the others read the new version within a second.
        await authenticator.RefreshAsync(force: true, context.CancellationToken);
        return new Result { ReturnCode = 0 };
    }

    /// <summary>admin, user or node (any case).</summary>
    public static FlameRole ParseRole(string role) => role.ToLowerInvariant() switch
    {
        "admin" => FlameRole.Admin,
        "user" => FlameRole.User,
        "node" => FlameRole.Node,
        _ => throw FlameException.InvalidArgument($"role '{LogText.Escape(role)}' is unknown; roles are admin, user and node"),
    };
}
