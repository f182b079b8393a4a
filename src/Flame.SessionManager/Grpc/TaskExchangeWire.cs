using Flame.Wire;
using Flame.Grains;
using Flame.V1;

namespace Flame.SessionManager.Grpc;

/// <summary>The wire forms of the task exchange, to <see cref="TaskExchange"/> and back.</summary>
internal static class TaskExchangeWire
{
    /// <summary>Backend.LaunchTask: the next task.</summary>
    public static readonly Func<LaunchTaskRequest, TaskExchange> Next = static _ => TaskExchange.Next;

    /// <summary>Backend.CompleteTask: the result of the task the executor runs.</summary>
    public static readonly Func<CompleteTaskRequest, TaskExchange> Complete = static request =>
        new TaskExchange { Kind = TaskExchangeKind.Complete, Result = Result(Required(request.TaskResult, "task_result")) };

    /// <summary>BackendExt.CompleteAndLaunchTask: the result (checked against its task and launch when named), then the next task.</summary>
    public static readonly Func<CompleteAndLaunchTaskRequest, TaskExchange> CompleteAndLaunch = static request =>
        new TaskExchange { Result = Checked(Required(request.TaskResult, "task_result"), request.TaskId, request.Launch) };

    /// <summary>The one-task form on the stream: as CompleteAndLaunchTask, and without a result a LaunchTask.</summary>
    public static readonly Func<CompleteAndLaunchTaskRequest, TaskExchange> StreamOne = static request =>
        request.TaskResult is null ? TaskExchange.Next : CompleteAndLaunch(request);

    /// <summary>The windowed form on the stream (ext.proto, CompleteAndLaunchTaskRequest.window).</summary>
    public static readonly Func<CompleteAndLaunchTaskRequest, TaskExchange> Windowed = static request =>
    {
        var results = new List<TaskResultInfo>(1 + request.MoreResults.Count);
        if (request.TaskResult is { } first)
            results.Add(WithLaunch(first, request.TaskId, request.Launch, "launch"));
        for (var i = 0; i < request.MoreResults.Count; i++)
        {
            var more = request.MoreResults[i];
            results.Add(WithLaunch(Required(more.TaskResult, $"more_results[{i}].task_result"), more.TaskId, more.Launch, $"more_results[{i}].launch"));
        }
        var returned = new long[request.Returned.Count];
        for (var i = 0; i < returned.Length; i++)
            returned[i] = (long)request.Returned[i];
        var window = (int)Math.Min(request.Window, TaskExchangeGateway.MaxTaskWindow);
        return new TaskExchange
        {
            Kind = TaskExchangeKind.Window,
            Results = results,
            Returned = returned,
            Holding = (int)request.Holding,
            Window = request.Leaving ? 0 : Math.Max(1, window),
        };
    };

    /// <summary>A windowed request (ext.proto, CompleteAndLaunchTaskRequest.window); otherwise the one-task form.</summary>
    public static bool IsWindowed(CompleteAndLaunchTaskRequest request) =>
        request.Window > 1 || request.Holding > 0 || request.MoreResults.Count > 0 || request.Returned.Count > 0 || request.Leaving;

    /// <summary>The standard and unary answer: the task, or none (no more work: unbind).</summary>
    public static LaunchTaskResponse ToResponse(TaskHandout handout) =>
        handout.Task is { } task ? new LaunchTaskResponse { Task = task.ToWire() } : new LaunchTaskResponse();

    /// <summary>The stream's answer: the tasks with their launch numbers, and the window this gateway grants.</summary>
    public static TaskLaunch ToLaunch(TaskHandout handout)
    {
        var response = handout.Task is { } first ? Launch(first) : new TaskLaunch();
        if (handout.More is { } more)
            for (var i = 0; i < more.Length; i++)
                response.More.Add(Launch(more[i]));
        // Every answer says how large a window this gateway grants: an executor manager that asked with one task
        // learns it may ask for more.
        response.Window = TaskExchangeGateway.MaxTaskWindow;
        return response;
    }

    private static TaskLaunch Launch(TaskInfo task) => new() { Task = task.ToWire(), Launch = (ulong)task.Launch };

    private static TaskResultInfo Checked(TaskResult result, string taskId, ulong launch)
    {
        var info = Result(result) with { Launch = (long)launch };
        return taskId.Length > 0 ? info with { TaskId = FlameIds.ParseTaskId(taskId) } : info;
    }

    /// <summary>A result sent with a window: it must name its launch (the task id is checked when given).</summary>
    private static TaskResultInfo WithLaunch(TaskResult result, string taskId, ulong launch, string field) =>
        launch == 0
            ? throw FlameException.InvalidArgument($"{field} is 0: with a window every result names the launch it is for")
            : Checked(result, taskId, launch);

    private static TaskResultInfo Result(TaskResult result) => new()
    {
        ReturnCode = result.ReturnCode,
        Output = result.GetOutputOrNull(),
        Message = result.HasMessage ? result.Message : null,
        SystemFailure = result.SystemFailure,
    };

    private static T Required<T>(T? value, string what) where T : class =>
        value ?? throw FlameException.InvalidArgument($"the request has no {what}");
}
