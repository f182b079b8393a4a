using Flame.Grains;
using Flame.SessionManager.Tests.Support;
using Grpc.Core;
using Orleans;
using Orleans.Runtime;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// Nothing partial is left by a refused request, not even inside the silo: session grains are kept
/// active for as long as their session exists, so an activation for a session that was never created
/// would stay in memory for good, one per refused id.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SessionGrainActivationTests(GatewayFixture gateway)
{
    private Frontend.FrontendClient Frontend => gateway.Frontend;

    [Fact]
    public async Task RefusedSessionRequests_LeaveNoSessionGrainActive()
    {
        var app = await Frontend.RegisterAppAsync();
        var missingApp = Names.Unique("app-missing");
        var refusals = new Dictionary<string, (StatusCode Code, Func<string, Task> Call)>
        {
            // The control: a lookup of an unknown id, whose activation is known to go away.
            ["GetSession of an unknown id"] = (StatusCode.NotFound,
                id => Frontend.GetSessionAsync(new GetSessionRequest { SessionId = id }).ResponseAsync),
            ["CreateSession for a missing application"] = (StatusCode.NotFound,
                id => Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = new SessionSpec { Application = missingApp } }).ResponseAsync),
            ["CreateSession with too much common data"] = (StatusCode.InvalidArgument,
                id => Frontend.CreateSessionAsync(new CreateSessionRequest
                {
                    SessionId = id,
                    Session = new SessionSpec { Application = app, CommonData = Google.Protobuf.ByteString.CopyFrom(new byte[GatewayFixture.MaxCommonDataBytes + 1]) },
                }).ResponseAsync),
            ["CreateSession with max_instances 0"] = (StatusCode.InvalidArgument,
                id => Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = id, Session = new SessionSpec { Application = app, MaxInstances = 0 } }).ResponseAsync),
            ["OpenSession of a missing session without a spec"] = (StatusCode.NotFound,
                id => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id }).ResponseAsync),
            ["OpenSession of a missing session for a missing application"] = (StatusCode.NotFound,
                id => Frontend.OpenSessionAsync(new OpenSessionRequest { SessionId = id, Session = new SessionSpec { Application = missingApp } }).ResponseAsync),
        };
        var ids = new Dictionary<GrainId, string>();
        foreach (var (what, (code, call)) in refusals)
        {
            var id = Names.Unique("refused");
            await AssertFailsAsync(code, () => call(id));
            ids[gateway.Grains.GetGrain<ISessionGrain>(id).GetGrainId()] = what;
        }
        var management = gateway.Grains.GetGrain<IManagementGrain>(0);
        var sessionGrainType = ids.Keys.First().Type;
        List<GrainId> active = [];

        // Deactivation happens after the request, with no event to wait on: re-check for a while.
        await Wait.UntilAsync(
            async () =>
            {
                active = await management.GetActiveGrains(sessionGrainType);
                return !ids.Keys.Any(active.Contains);
            },
            "every session grain activated by a refused request to be deactivated",
            seen: () => Task.FromResult("still active after: " + string.Join("; ", ids.Where(p => active.Contains(p.Key)).Select(p => p.Value))),
            timeout: TimeSpan.FromSeconds(5));
    }
}
