using Flame.Client;
using Flame.Wire;
using Flame.V1;
using Flame.SessionManager.Security;
using Grpc.Core;
using Task = System.Threading.Tasks.Task;
using WireTask = Flame.V1.Task;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// The client-facing flame.v1 Frontend service: a thin mapping between the wire and the
/// in-process client, which holds every rule. Errors leave as gRPC statuses through <see cref="FlameErrorInterceptor"/>.
/// </summary>
/// <remarks>
/// The method table (<see cref="AccessPolicy"/>) has already let the caller in; what a user may touch is checked here:
/// only the sessions it owns, and applications without their environment values.
/// </remarks>
internal sealed class FrontendService(
    OrleansFlameClient flame, IGrainFactory grains, Flame.Grains.Sessions.SessionTaskReader tasks, Authorizer authorizer,
    SessionListing listing, Microsoft.Extensions.Options.IOptions<Flame.Grains.Hosting.FlameLimitsOptions> limits)
    : Frontend.FrontendBase
{
    private static readonly Result Ok = new() { ReturnCode = 0 };

    public override Task<Result> RegisterApplication(RegisterApplicationRequest request, ServerCallContext context)
    {
        var spec = Required(request.Application, "application").ToDomain();
        return AsResult(request.Name, () => flame.RegisterApplicationAsync(request.Name, spec, context.CancellationToken), context);
    }

    public override Task<Result> UnregisterApplication(UnregisterApplicationRequest request, ServerCallContext context) =>
        AsResult(request.Name, () => flame.UnregisterApplicationAsync(request.Name, context.CancellationToken), context);

    public override Task<Result> UpdateApplication(UpdateApplicationRequest request, ServerCallContext context)
    {
        var spec = Required(request.Application, "application").ToDomain();
        return AsResult(request.Name, () => flame.UpdateApplicationAsync(request.Name, spec, context.CancellationToken), context);
    }

    /// <summary>
    /// Runs an application change and answers its logical errors (a bad name, a name taken, an unknown application, a
    /// state conflict) as Flame does: <c>Result{return_code: -1, message}</c>, which Flame's SDKs and flmctl read. A
    /// malformed spec and faults stay gRPC statuses. The error's kind also goes in the trailer
    /// <see cref="FlameStatus.ErrorKindTrailer"/>, so that our client throws the same exception as over Orleans.
    /// </summary>
    private static async Task<Result> AsResult(string name, Func<Task> change, ServerCallContext context)
    {
        try
        {
            FlameIds.ValidateApplicationName(name);
        }
        catch (FlameException ex)
        {
            return FlameStatus.ToResult(ex, context.ResponseTrailers);
        }
        try
        {
            await change();
            return Ok;
        }
        catch (FlameException ex) when (ex.Kind is FlameErrorKind.AlreadyExists or FlameErrorKind.NotFound or FlameErrorKind.FailedPrecondition)
        {
            return FlameStatus.ToResult(ex, context.ResponseTrailers);
        }
    }

    public override async Task<Application> GetApplication(GetApplicationRequest request, ServerCallContext context) =>
        Authorizer.Visible(Caller.Of(context), await flame.GetApplicationAsync(request.Name, context.CancellationToken)).ToWire();

    /// <summary>By name; cut at <see cref="SessionListing.MaxAnswerBytes"/> (then the status message says so).</summary>
    public override async Task<ApplicationList> ListApplication(ListApplicationRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var list = new ApplicationList();
        long bytes = 0;
        var total = 0;
        await foreach (var application in flame.ListApplicationsAsync(context.CancellationToken))
        {
            total++;
            var wire = Authorizer.Visible(caller, application).ToWire();
            var size = wire.CalculateSize() + 6;
            if (bytes + size > SessionListing.MaxAnswerBytes && list.Applications.Count > 0)
                continue;
            bytes += size;
            list.Applications.Add(wire);
        }
        if (list.Applications.Count < total)
            context.Status = new Status(StatusCode.OK,
                $"list cut at {list.Applications.Count} of {total} applications to stay under 3.5 MiB; GetApplication reads the others by name");
        return list;
    }

    public override async Task<ExecutorList> ListExecutor(ListExecutorRequest request, ServerCallContext context) =>
        (await flame.ListExecutorsAsync(context.CancellationToken).ToListAsync(context.CancellationToken)).ToWire();

    public override async Task<NodeList> ListNodes(ListNodesRequest request, ServerCallContext context) =>
        (await flame.ListNodesAsync(context.CancellationToken).ToListAsync(context.CancellationToken)).ToWire();

    public override async Task<GetNodeResponse> GetNode(GetNodeRequest request, ServerCallContext context) =>
        new() { Node = (await flame.GetNodeAsync(request.Name, context.CancellationToken)).ToWire() };

    public override async Task<Session> CreateSession(CreateSessionRequest request, ServerCallContext context) =>
        (await flame.CreateSessionAsync(
            request.SessionId, Authorizer.Owned(Required(request.Session, "session spec").ToDomain(), Caller.Of(context)), context.CancellationToken)).ToWire();

    /// <summary>
    /// A user's ownership is checked before the session is opened: a refusal to open (a spec that does not match) would
    /// tell another owner's application and state. It is checked again on the answer and on a refusal, since the
    /// session may be created between the check and the opening.
    /// </summary>
    public override async Task<Session> OpenSession(OpenSessionRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context);
        var spec = request.Session?.ToDomain() is { } given ? Authorizer.Owned(given, caller) : null;
        if (caller.Role != FlameRole.Admin)
            await CheckOwnedIfExistsAsync(caller, request.SessionId, context.CancellationToken);
        SessionInfo opened;
        try
        {
            opened = await flame.OpenSessionAsync(request.SessionId, spec, context.CancellationToken);
        }
        catch (FlameException) when (caller.Role != FlameRole.Admin)
        {
            await CheckOwnedIfExistsAsync(caller, request.SessionId, context.CancellationToken);
            throw;
        }
        return Authorizer.CheckOwned(caller, opened, "OpenSession").ToWire();
    }

    private async Task CheckOwnedIfExistsAsync(Caller caller, string sessionId, CancellationToken cancellationToken)
    {
        SessionInfo existing;
        try
        {
            existing = await flame.GetSessionAsync(sessionId, cancellationToken);
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.NotFound)
        {
            return;
        }
        Authorizer.CheckOwned(caller, existing, "OpenSession");
    }

    public override async Task<Session> CloseSession(CloseSessionRequest request, ServerCallContext context)
    {
        await authorizer.CheckSessionAsync(Caller.Of(context), request.SessionId, "CloseSession");
        return (await flame.CloseSessionAsync(request.SessionId, context.CancellationToken)).ToWire();
    }

    public override async Task<Session> DeleteSession(DeleteSessionRequest request, ServerCallContext context)
    {
        await authorizer.CheckSessionAsync(Caller.Of(context), request.SessionId, "DeleteSession");
        return (await flame.DeleteSessionAsync(request.SessionId, context.CancellationToken)).ToWire();
    }

    public override async Task<Session> GetSession(GetSessionRequest request, ServerCallContext context) =>
        Authorizer.CheckOwned(Caller.Of(context), await flame.GetSessionAsync(request.SessionId, context.CancellationToken), "GetSession").ToWire();

    /// <summary>
    /// A user sees only its own sessions. Oldest first, at most Flame:Limits:MaxSessionsPerList and 3.5 MiB, so that a
    /// client with gRPC's default 4 MiB limit can read it; a cut list says so in its status message, and
    /// FrontendExt.ListSessions pages through all.
    /// </summary>
    public override async Task<SessionList> ListSession(ListSessionRequest request, ServerCallContext context)
    {
        var max = limits.Value.MaxSessionsPerList;
        var (sessions, next) = await listing.FillAsync(Caller.Of(context), null, max, int.MaxValue, null, null, context.CancellationToken);
        var list = new SessionList();
        list.Sessions.AddRange(sessions);
        if (next is not null)
            context.Status = new Status(StatusCode.OK,
                $"list cut at {sessions.Count} sessions (the oldest; Flame:Limits:MaxSessionsPerList is {max}, and an answer stays under 3.5 MiB); "
                + "FrontendExt.ListSessions pages through all of them (flmctl list -s)");
        return list;
    }

    public override async Task<WireTask> CreateTask(CreateTaskRequest request, ServerCallContext context)
    {
        var spec = Required(request.Task, "task");
        await authorizer.CheckSessionAsync(Caller.Of(context), spec.SessionId, "CreateTask");
        return (await flame.CreateTaskAsync(spec.SessionId, spec.GetInputOrNull(), context.CancellationToken)).ToWire();
    }

    public override async Task<WireTask> GetTask(GetTaskRequest request, ServerCallContext context)
    {
        await authorizer.CheckSessionAsync(Caller.Of(context), request.SessionId, "GetTask");
        return (await flame.GetTaskAsync(request.SessionId, FlameIds.ParseTaskId(request.TaskId), context.CancellationToken)).ToWire();
    }

    public override async Task WatchTask(WatchTaskRequest request, IServerStreamWriter<WireTask> responseStream, ServerCallContext context)
    {
        var taskId = FlameIds.ParseTaskId(request.TaskId);
        await authorizer.CheckSessionAsync(Caller.Of(context), request.SessionId, "WatchTask");
        await foreach (var task in flame.WatchTaskAsync(request.SessionId, taskId, context.CancellationToken))
            await responseStream.WriteAsync(task.ToWire(), context.CancellationToken);
    }

    /// <summary>
    /// Streamed from the task store, not paged out of the session grain: a session of millions of tasks costs the
    /// grain one call. Reading the session first checks it exists and waits until every change made so far is
    /// durable, so the stream shows at least what any client has been told.
    /// </summary>
    public override async Task ListTask(ListTaskRequest request, IServerStreamWriter<WireTask> responseStream, ServerCallContext context)
    {
        var sessionId = FlameIds.ValidateSessionId(request.SessionId);
        Authorizer.CheckOwned(Caller.Of(context), await grains.GetGrain<Flame.Grains.ISessionGrain>(sessionId).GetAsync(), "ListTask");
        await foreach (var task in tasks.ReadAsync(sessionId, context.CancellationToken))
            await responseStream.WriteAsync(task.ToWire(), context.CancellationToken);
    }

    private static T Required<T>(T? value, string what) where T : class =>
        value ?? throw FlameException.InvalidArgument($"the request has no {what}");
}
