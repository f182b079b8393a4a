using Grpc.Core;

namespace Flame.SessionManager.Security;

/// <summary>Who made a gateway call: a token's name, role and node, or the anonymous caller.</summary>
/// <param name="Name">The token's name (<c>anonymous</c> without one); sessions record it as their owner.</param>
/// <param name="Role">What the caller may do.</param>
/// <param name="Node">For a node token, the node it may act for; null for every other caller.</param>
/// <param name="Anonymous">True when no token was presented.</param>
public sealed record Caller(string Name, FlameRole Role, string? Node, bool Anonymous)
{
    /// <summary>The name of a caller without a token.</summary>
    public const string AnonymousName = Grains.Security.TokenRegistryGrain.AnonymousName;

    private const string Key = "flame.caller";

    /// <summary>The caller of a public method (a health check), whatever it presented: it may do nothing else.</summary>
    internal static readonly Caller Probe = new(AnonymousName, FlameRole.User, null, Anonymous: true);

    /// <summary>How refusals and audit lines name the caller: <c>user 'alice'</c>, <c>node 'em-1'</c>, <c>anonymous (user)</c>.</summary>
    public string Describe() =>
        Anonymous ? $"anonymous ({RoleName(Role)})"
        : Role == FlameRole.Node && Node is not null && Node != Name ? $"node '{LogText.Escape(Node)}' (token '{LogText.Escape(Name)}')"
        : $"{RoleName(Role)} '{LogText.Escape(Name)}'";

    /// <summary>The role as written in configuration and on the wire: admin, user, node.</summary>
    public static string RoleName(FlameRole role) => role switch
    {
        FlameRole.Admin => "admin",
        FlameRole.User => "user",
        FlameRole.Node => "node",
        _ => role.ToString(),
    };

    /// <summary>The caller the authentication interceptor found for this call.</summary>
    /// <exception cref="InvalidOperationException">The call did not pass the interceptor (a wiring fault).</exception>
    public static Caller Of(ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var caller) && caller is Caller known
            ? known
            : throw new InvalidOperationException($"{context.Method} has no authenticated caller: the authentication interceptor did not run");

    internal void Attach(ServerCallContext context) => context.UserState[Key] = this;
}
