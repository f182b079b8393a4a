using System.Text;
using Flame.Client;
using Flame.SessionManager.Tests.Support;

namespace Flame.SessionManager.Tests;

// Errors: each arranged and provoked on every transport, which must throw the same kind.
public abstract partial class FlameClientContract
{
    // ---------------------------------------------------------------- errors

    public static TheoryData<string> Errors => new(
        "unknown session",
        "unknown task",
        "unknown application",
        "unknown node",
        "session id with a space",
        "session id of 254 characters",
        "task id 0",
        "negative task id in a watch",
        "empty application name",
        "invalid application spec",
        "session for a missing application",
        "duplicate session id",
        "duplicate application",
        "task for a closed session",
        "task input over the limit",
        "task input over the gateway's message limit",
        "common data over the limit",
        "open a closed session",
        "open a missing session without a spec",
        "open with a contradicting spec",
        "delete an open session",
        "list the tasks of a missing session",
        "watch a missing task",
        "update a missing application",
        "unregister a missing application");

    /// <summary>Each error, arranged and then provoked; every transport must throw the same kind.</summary>
    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Errors_AreFlameExceptionsOfTheSameKind_OnEveryTransport(string error)
    {
        var (kind, provoke, mentions, check) = await ArrangeAsync(error);

        await AssertFailsAsync(kind, provoke, mentions);

        if (check is not null)
            await check();
    }

    private async Task<(FlameErrorKind Kind, Func<Task> Provoke, string[] Mentions, Func<Task>? Check)> ArrangeAsync(string error)
    {
        const FlameErrorKind invalid = FlameErrorKind.InvalidArgument, notFound = FlameErrorKind.NotFound;
        switch (error)
        {
            case "unknown session":
            {
                var id = Names.Unique("s");
                return (notFound, () => Client.GetSessionAsync(id), [id], null);
            }
            case "unknown task":
            {
                var id = await NewSessionAsync();
                await Client.CreateTaskAsync(id, null);
                return (notFound, () => Client.GetTaskAsync(id, 2), ["task 2", id], null);
            }
            case "unknown application":
            {
                var name = Names.Unique("app");
                return (notFound, () => Client.GetApplicationAsync(name), [name], null);
            }
            case "unknown node":
            {
                var name = Names.Unique("node");
                return (notFound, () => Client.GetNodeAsync(name), [name], null);
            }
            case "session id with a space":
                return (invalid, () => Client.GetSessionAsync("bad id"), ["session id", "' '"], null);
            case "session id of 254 characters":
                return (invalid, () => Client.CreateTaskAsync(new string('s', 254), null), ["session id", "253"], null);
            case "task id 0":
            {
                var id = await NewSessionAsync();
                return (invalid, () => Client.GetTaskAsync(id, 0), ["task id", "0"], null);
            }
            case "negative task id in a watch":
            {
                var id = await NewSessionAsync();
                return (invalid, () => Client.WatchTaskAsync(id, -1).ToListAsync().AsTask(), ["task id", "-1"], null);
            }
            case "empty application name":
                return (invalid, () => Client.RegisterApplicationAsync("", new ApplicationSpec { Command = "/bin/true" }), ["application name is empty"], null);
            case "invalid application spec":
            {
                var name = Names.Unique("app");
                return (invalid, () => Client.RegisterApplicationAsync(name, new ApplicationSpec { MaxInstances = 0 }), [name, "max_instances"],
                    () => AssertFailsAsync(notFound, () => Client.GetApplicationAsync(name)));
            }
            case "session for a missing application":
            {
                var app = Names.Unique("app");
                return (notFound, () => Client.CreateSessionAsync(null, new SessionSpec { Application = app }), [app],
                    async () => Assert.DoesNotContain(await Client.ListSessionsAsync().ToListAsync(), s => s.Spec.Application == app));
            }
            case "duplicate session id":
            {
                var id = await NewSessionAsync();
                var other = await RegisterAppAsync();
                return (FlameErrorKind.AlreadyExists, () => Client.CreateSessionAsync(id, new SessionSpec { Application = other }), [id],
                    async () => Assert.NotEqual(other, (await Client.GetSessionAsync(id)).Spec.Application));
            }
            case "duplicate application":
            {
                var name = await RegisterAppAsync();
                return (FlameErrorKind.AlreadyExists, () => Client.RegisterApplicationAsync(name, new ApplicationSpec { Command = "/bin/other" }), [name],
                    async () => Assert.Equal("/bin/true", (await Client.GetApplicationAsync(name)).Spec.Command));
            }
            case "task for a closed session":
            {
                var id = await NewSessionAsync();
                await Client.CreateTaskAsync(id, null);
                await Client.CloseSessionAsync(id);
                return (invalid, () => Client.CreateTaskAsync(id, [1]), [id, "closed"], () => AssertCountersAsync(id, cancelled: 1));
            }
            case "task input over the limit":
            {
                var id = await NewSessionAsync();
                return (invalid, () => Client.CreateTaskAsync(id, new byte[GatewayFixture.MaxTaskInputBytes + 1]),
                    ["Flame:Limits:MaxTaskInputBytes"], () => AssertCountersAsync(id));
            }
            case "task input over the gateway's message limit":
            {
                // Bigger than what the gateway's gRPC server accepts in one message: still an oversized input.
                var id = await NewSessionAsync();
                return (invalid, () => Client.CreateTaskAsync(id, new byte[GatewayFixture.GrpcReceiveLimitBytes + 1]), [],
                    () => AssertCountersAsync(id));
            }
            case "common data over the limit":
            {
                var app = await RegisterAppAsync();
                var id = Names.Unique("s");
                return (invalid, () => Client.CreateSessionAsync(id, new SessionSpec { Application = app, CommonData = new byte[GatewayFixture.MaxCommonDataBytes + 1] }),
                    ["Flame:Limits:MaxCommonDataBytes"], () => AssertFailsAsync(notFound, () => Client.GetSessionAsync(id)));
            }
            case "open a closed session":
            {
                var id = await NewSessionAsync();
                await Client.CloseSessionAsync(id);
                return (invalid, () => Client.OpenSessionAsync(id), [$"Session {id} is not open"], null);
            }
            case "open a missing session without a spec":
            {
                var id = Names.Unique("s");
                return (notFound, () => Client.OpenSessionAsync(id), [id],
                    () => AssertFailsAsync(notFound, () => Client.GetSessionAsync(id)));
            }
            case "open with a contradicting spec":
            {
                var id = await NewSessionAsync();
                var other = await RegisterAppAsync();
                return (invalid, () => Client.OpenSessionAsync(id, new SessionSpec { Application = other }), [id, "application"], null);
            }
            case "delete an open session":
            {
                var id = await NewSessionAsync();
                return (FlameErrorKind.FailedPrecondition, () => Client.DeleteSessionAsync(id), [id, "open"],
                    async () => Assert.Equal(SessionState.Open, (await Client.GetSessionAsync(id)).Status.State));
            }
            case "list the tasks of a missing session":
            {
                var id = Names.Unique("s");
                return (notFound, () => Client.ListTasksAsync(id).ToListAsync().AsTask(), [id], null);
            }
            case "watch a missing task":
            {
                var id = await NewSessionAsync();
                return (notFound, () => Client.WatchTaskAsync(id, 1).ToListAsync().AsTask(), ["task 1", id], null);
            }
            case "update a missing application":
            {
                var name = Names.Unique("app");
                return (notFound, () => Client.UpdateApplicationAsync(name, new ApplicationSpec { Command = "/bin/true" }), [name],
                    () => AssertFailsAsync(notFound, () => Client.GetApplicationAsync(name)));
            }
            case "unregister a missing application":
            {
                var name = Names.Unique("app");
                return (notFound, () => Client.UnregisterApplicationAsync(name), [name], null);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(error), error, "no such error case");
        }
    }
}
