using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flame.Client;
using Flame.Grains.Diagnostics;

namespace Flame.SessionManager.Observability;

/// <summary>
/// The dashboard: one page with its script and style (embedded in this assembly, nothing from a CDN) and one
/// server-sent event stream that pushes the whole view every <see cref="FlameObservabilityOptions.DashboardRefreshMilliseconds"/>.
/// Read-only: it only lists.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>Most sessions a view shows (the newest); most tasks of one session (the first of the chosen state).</summary>
    internal const int MaxSessions = 200, MaxTasks = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Map(WebApplication app, IServiceProvider services, FlameObservabilityOptions options)
    {
        var client = services.GetRequiredService<OrleansFlameClient>();
        app.MapGet("/", () => Asset("index.html", "text/html; charset=utf-8"));
        app.MapGet("/dashboard.js", () => Asset("dashboard.js", "text/javascript; charset=utf-8"));
        app.MapGet("/dashboard.css", () => Asset("dashboard.css", "text/css; charset=utf-8"));
        app.MapGet("/api/view", async (string? session, string? state, CancellationToken cancellationToken) =>
            Results.Json(await ViewAsync(client, session, state, null, cancellationToken), Json));
        app.MapGet("/api/stream", (HttpContext context, string? session, string? state) =>
            StreamAsync(context, client, session, state, TimeSpan.FromMilliseconds(options.DashboardRefreshMilliseconds)));
    }

    private static IResult Asset(string name, string contentType)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Flame.Dashboard." + name)
            ?? throw new InvalidOperationException($"the dashboard's {name} is not embedded");
        using var reader = new StreamReader(stream);
        return Results.Text(reader.ReadToEnd(), contentType);
    }

    /// <summary>Server-sent events: a view now and one every <paramref name="every"/>, until the page goes away.</summary>
    private static async Task StreamAsync(HttpContext context, OrleansFlameClient client, string? session, string? state, TimeSpan every)
    {
        var cancellationToken = context.RequestAborted;
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var throughput = new Throughput();
        using var timer = new PeriodicTimer(every);
        try
        {
            do
            {
                object view;
                try
                {
                    view = await ViewAsync(client, session, state, throughput, cancellationToken);
                }
                catch (Exception ex) when (ex is FlameException or TimeoutException or OrleansException)
                {
                    view = new { error = ex.Message };
                }
                await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(view, Json) + "\n\n", cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page was closed.
        }
    }

    private static async Task<object> ViewAsync(
        OrleansFlameClient client, string? sessionId, string? state, Throughput? throughput, CancellationToken cancellationToken)
    {
        var nodes = await ToListAsync(client.ListNodesAsync(cancellationToken), int.MaxValue);
        var executors = await ToListAsync(client.ListExecutorsAsync(cancellationToken), int.MaxValue);
        var applications = await ToListAsync(client.ListApplicationsAsync(cancellationToken), int.MaxValue);
        var sessions = await ToListAsync(client.ListSessionsAsync(cancellationToken), int.MaxValue);
        var finished = sessions.Sum(s => (long)s.Status.Succeed + s.Status.Failed + s.Status.Cancelled);
        var shown = sessions.OrderByDescending(s => s.Status.CreationTime).Take(MaxSessions).ToList();
        object? detail = null;
        if (!string.IsNullOrEmpty(sessionId))
        {
            var session = await client.GetSessionAsync(sessionId, cancellationToken);
            var wanted = ParseState(state);
            var tasks = await ToListAsync(Filter(client.ListTasksAsync(sessionId, cancellationToken), wanted), MaxTasks);
            detail = new
            {
                session = Row(session),
                events = session.Status.Events,
                filter = wanted is { } w ? FlameMetrics.StateName(w) : "all",
                tasks = tasks.Select(t => new
                {
                    id = t.Id,
                    state = FlameMetrics.StateName(t.State),
                    creationTime = t.CreationTime,
                    completionTime = t.CompletionTime,
                    events = t.Events,
                }),
            };
        }
        return new
        {
            time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            cluster = new
            {
                nodes = nodes.Count,
                nodesReady = nodes.Count(n => n.State == NodeState.Ready),
                executors = executors.Count,
                executorsBound = executors.Count(e => e.State == ExecutorState.Bound),
                sessions = sessions.Count,
                sessionsOpen = sessions.Count(s => s.Status.State == SessionState.Open),
                pending = sessions.Sum(s => (long)s.Status.Pending),
                running = sessions.Sum(s => (long)s.Status.Running),
                finished,
                tasksPerSecond = throughput?.Rate(finished),
            },
            sessions = shown.Select(Row),
            executors = executors.OrderBy(e => e.Node, StringComparer.Ordinal).ThenBy(e => e.Id, StringComparer.Ordinal)
                .Select(e => new { id = e.Id, node = e.Node, state = e.State.ToString(), session = e.SessionId, cpu = e.ResReq.Cpu, memory = e.ResReq.Memory }),
            nodes = nodes.OrderBy(n => n.Name, StringComparer.Ordinal).Select(n => new
            {
                name = n.Name, hostname = n.Hostname, state = n.State.ToString(),
                cpu = n.Capacity.Cpu, memory = n.Capacity.Memory, allocatableCpu = n.Allocatable.Cpu, lastHeartbeat = n.LastHeartbeatTime,
            }),
            applications = applications.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => new
            {
                name = a.Name, state = a.State.ToString(), shim = a.Spec.Shim.ToString(), description = a.Spec.Description,
                sessions = sessions.Count(s => s.Spec.Application == a.Name),
            }),
            session = detail,
        };
    }

    private static object Row(SessionInfo s) => new
    {
        id = s.Id,
        application = s.Spec.Application,
        state = s.Status.State.ToString(),
        priority = s.Spec.Priority,
        creationTime = s.Status.CreationTime,
        completionTime = s.Status.CompletionTime,
        pending = s.Status.Pending,
        running = s.Status.Running,
        succeeded = s.Status.Succeed,
        failed = s.Status.Failed,
        cancelled = s.Status.Cancelled,
        total = s.Status.Pending + s.Status.Running + s.Status.Succeed + s.Status.Failed + s.Status.Cancelled,
        lastEvent = s.Status.Events.Count == 0 ? null : s.Status.Events[^1].Message,
    };

    private static TaskState? ParseState(string? state) =>
        string.IsNullOrEmpty(state) || state == "all" ? null
        : Enum.GetValues<TaskState>().FirstOrDefault(s => FlameMetrics.StateName(s) == state) is var found && FlameMetrics.StateName(found) == state ? found
        : throw FlameException.InvalidArgument($"state '{state}' is none of pending, running, succeeded, failed, cancelled");

    private static async IAsyncEnumerable<TaskInfo> Filter(IAsyncEnumerable<TaskInfo> tasks, TaskState? state)
    {
        await foreach (var task in tasks)
            if (state is null || task.State == state)
                yield return task;
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items, int max)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
            if (list.Count >= max)
                break;
        }
        return list;
    }

    /// <summary>Tasks finished per second between two views of one page.</summary>
    private sealed class Throughput
    {
        private long _finished = -1;
        private long _at;

        public double? Rate(long finished)
        {
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            double? rate = _finished < 0 ? null
                : Math.Max(0, finished - _finished) / Math.Max(0.001, System.Diagnostics.Stopwatch.GetElapsedTime(_at, now).TotalSeconds);
            (_finished, _at) = (finished, now);
            return rate is { } r ? Math.Round(r, 1) : null;
        }
    }
}
