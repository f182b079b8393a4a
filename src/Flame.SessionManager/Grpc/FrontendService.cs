using Flame.Client;
using Flame.Client.Wire;
using Flame.V1;
using Grpc.Core;
using Task = System.Threading.Tasks.Task;
using WireTask = Flame.V1.Task;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// The client-facing flame.v1 Frontend service: a thin mapping between the wire and the
/// in-process client, which holds every rule. Errors leave as gRPC statuses through <see cref="FlameErrorInterceptor"/>.
/// </summary>
internal sealed class FrontendService(OrleansFlameClient flame, IGrainFactory grains, Flame.Storage.ITaskStore store) : Frontend.FrontendBase
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
        (await flame.GetApplicationAsync(request.Name, context.CancellationToken)).ToWire();

    public override async Task<ApplicationList> ListApplication(ListApplicationRequest request, ServerCallContext context) =>
        (await flame.ListApplicationsAsync(context.CancellationToken).ToListAsync(context.CancellationToken)).ToWire();

    public override async Task<ExecutorList> ListExecutor(ListExecutorRequest request, ServerCallContext context) =>
        (await flame.ListExecutorsAsync(context.CancellationToken).ToListAsync(context.CancellationToken)).ToWire();

    public override async Task<NodeList> ListNodes(ListNodesRequest request, ServerCallContext context) =>
        (await flame.ListNodesAsync(context.CancellationToken).ToListAsync(context.CancellationToken)).ToWire();

    public override async Task<GetNodeResponse> GetNode(GetNodeRequest request, ServerCallContext context) =>
        new() { Node = (await flame.GetNodeAsync(request.Name, context.CancellationToken)).ToWire() };

    public override async Task<Session> CreateSession(CreateSessionRequest request, ServerCallContext context) =>
        (await flame.CreateSessionAsync(request.SessionId, Required(request.Session, "session spec").ToDomain(), context.CancellationToken)).ToWire();

    public override async Task<Session> OpenSession(OpenSessionRequest request, ServerCallContext context) =>
        (await flame.OpenSessionAsync(request.SessionId, request.Session?.ToDomain(), context.CancellationToken)).ToWire();

    public override async Task<Session> CloseSession(CloseSessionRequest request, ServerCallContext context) =>
        (await flame.CloseSessionAsync(request.SessionId, context.CancellationToken)).ToWire();

    public override async Task<Session> DeleteSession(DeleteSessionRequest request, ServerCallContext context) =>
        (await flame.DeleteSessionAsync(request.SessionId, context.CancellationToken)).ToWire();

    public override async Task<Session> GetSession(GetSessionRequest request, ServerCallContext context) =>
        (await flame.GetSessionAsync(request.SessionId, context.CancellationToken)).ToWire();

    public override async Task<SessionList> ListSession(ListSessionRequest request, ServerCallContext context) =>
        (await flame.ListSessionsAsync(context.CancellationToken).ToListAsync(context.CancellationToken)).ToWire();

    public override async Task<WireTask> CreateTask(CreateTaskRequest request, ServerCallContext context)
    {
        var spec = Required(request.Task, "task");
        return (await flame.CreateTaskAsync(spec.SessionId, spec.GetInputOrNull(), context.CancellationToken)).ToWire();
    }

    public override async Task<WireTask> GetTask(GetTaskRequest request, ServerCallContext context) =>
        (await flame.GetTaskAsync(request.SessionId, FlameIds.ParseTaskId(request.TaskId), context.CancellationToken)).ToWire();

    public override async Task WatchTask(WatchTaskRequest request, IServerStreamWriter<WireTask> responseStream, ServerCallContext context)
    {
        var taskId = FlameIds.ParseTaskId(request.TaskId);
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
        await grains.GetGrain<Flame.Grains.ISessionGrain>(sessionId).GetAsync();
        await foreach (var task in store.LoadTasksAsync(sessionId, 0, context.CancellationToken))
            await responseStream.WriteAsync(Flame.Grains.Sessions.StoredTasks.ToInfo(task, sessionId).ToWire(), context.CancellationToken);
    }

    private static T Required<T>(T? value, string what) where T : class =>
        value ?? throw FlameException.InvalidArgument($"the request has no {what}");
}
