using Flame.SessionManager.Grpc;

namespace Flame.SessionManager.Hosting;

/// <summary>What a cluster of many sessions needs in the gateway (issue 20): capped lists and the retention of closed sessions.</summary>
internal static class SessionListsHostingExtensions
{
    /// <summary>Adds the session lists' pager and the pruning of old closed sessions.</summary>
    public static IServiceCollection AddFlameSessionLists(this IServiceCollection services)
    {
        services.AddSingleton<SessionListing>();
        services.AddHostedService<SessionRetention>();
        return services;
    }
}
