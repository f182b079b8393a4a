using Google.Protobuf;
using Grpc.Core;

namespace Flame.SessionManager.Tests.Support;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;
using WireTask = Flame.V1.Task;

/// <summary>Calls and assertions over the flame.v1 Frontend, as an external client makes them.</summary>
public static class WireHelpers
{
    /// <summary>Registers a Host application with a unique name and returns the name.</summary>
    public static async Task<string> RegisterAppAsync(this Frontend.FrontendClient frontend, string prefix = "app")
    {
        var name = Names.Unique(prefix);
        var result = await frontend.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = name,
            Application = new ApplicationSpec { Command = "/bin/true" },
        });
        Assert.Equal(0, result.ReturnCode);
        return name;
    }

    /// <summary>Creates an open session of <paramref name="application"/> (a new application when null).</summary>
    public static async Task<Session> NewSessionAsync(
        this Frontend.FrontendClient frontend, string? application = null, string? sessionId = null)
    {
        application ??= await frontend.RegisterAppAsync();
        return await frontend.CreateSessionAsync(new CreateSessionRequest
        {
            SessionId = sessionId ?? Names.Unique("s"),
            Session = new SessionSpec { Application = application },
        });
    }

    /// <summary>Creates a task in <paramref name="sessionId"/> with <paramref name="input"/> (unset when null).</summary>
    public static async Task<WireTask> NewTaskAsync(this Frontend.FrontendClient frontend, string sessionId, string? input = null)
    {
        var spec = new TaskSpec { SessionId = sessionId };
        if (input is not null)
            spec.Input = ByteString.CopyFromUtf8(input);
        return await frontend.CreateTaskAsync(new CreateTaskRequest { Task = spec });
    }

    /// <summary>Every task ListTask streams for <paramref name="sessionId"/>, in the order streamed.</summary>
    public static async Task<List<WireTask>> ListTasksAsync(this Frontend.FrontendClient frontend, string sessionId)
    {
        using var call = frontend.ListTask(new ListTaskRequest { SessionId = sessionId });
        var tasks = new List<WireTask>();
        await Wait.For(ReadAll(call.ResponseStream, tasks), $"ListTask of session '{sessionId}' to end");
        return tasks;

        static async Task ReadAll(IAsyncStreamReader<WireTask> stream, List<WireTask> into)
        {
            while (await stream.MoveNext(CancellationToken.None))
                into.Add(stream.Current);
        }
    }

    /// <summary>The ids of every session ListSession returns, in its order.</summary>
    public static async Task<List<string>> ListSessionIdsAsync(this Frontend.FrontendClient frontend) =>
        (await frontend.ListSessionAsync(new ListSessionRequest())).Sessions.Select(s => s.Metadata.Id).ToList();

    /// <summary>The names of every application ListApplication returns, in its order.</summary>
    public static async Task<List<string>> ListApplicationNamesAsync(this Frontend.FrontendClient frontend) =>
        (await frontend.ListApplicationAsync(new ListApplicationRequest())).Applications.Select(a => a.Metadata.Name).ToList();

    /// <summary>
    /// Asserts the session's counters are exactly the given numbers, and that they equal the numbers of its
    /// tasks in each state as ListTask shows them. Returns the session.
    /// </summary>
    public static async Task<Session> AssertCountersAsync(
        this Frontend.FrontendClient frontend, string sessionId,
        int pending = 0, int running = 0, int succeed = 0, int failed = 0, int cancelled = 0)
    {
        var session = await frontend.GetSessionAsync(new GetSessionRequest { SessionId = sessionId });
        var s = session.Status;
        Assert.Equal((pending, running, succeed, failed, cancelled), (s.Pending, s.Running, s.Succeed, s.Failed, s.Cancelled));
        var tasks = await frontend.ListTasksAsync(sessionId);
        int Count(TaskState state) => tasks.Count(t => t.Status.State == state);
        Assert.Equal(
            (s.Pending, s.Running, s.Succeed, s.Failed, s.Cancelled),
            (Count(TaskState.Pending), Count(TaskState.Running), Count(TaskState.Succeed), Count(TaskState.Failed), Count(TaskState.Cancelled)));
        return session;
    }

    /// <summary>
    /// Asserts that <paramref name="call"/> fails with <paramref name="code"/> and a detail that mentions each of
    /// <paramref name="mentions"/>.
    /// </summary>
    public static async Task<RpcException> AssertFailsAsync(StatusCode code, Func<Task> call, params string[] mentions)
    {
        RpcException? failure = null;
        try
        {
            await Wait.For(call(), $"a {code} failure");
        }
        catch (RpcException ex)
        {
            failure = ex;
        }
        Assert.True(failure is not null, $"expected {code}, but the call succeeded");
        Assert.True(failure.StatusCode == code, $"expected {code}, got {failure.StatusCode}: {failure.Status.Detail}");
        foreach (var mention in mentions)
            Assert.Contains(mention, failure.Status.Detail);
        return failure;
    }

    /// <summary>
    /// Asserts that an application change is refused as Flame refuses it: the call succeeds with
    /// <c>Result{return_code: -1}</c> whose message mentions each of <paramref name="mentions"/>, and the trailer names
    /// the error's kind (<paramref name="kind"/>) for our client.
    /// </summary>
    public static async Task AssertRefusedAsync(Flame.FlameErrorKind kind, Func<AsyncUnaryCall<Result>> start, params string[] mentions)
    {
        using var call = start();
        var result = await Wait.For(call.ResponseAsync, "a Result");
        Assert.True(result.ReturnCode == -1, $"expected Result -1, got {result.ReturnCode}: {result.Message}");
        foreach (var mention in mentions)
            Assert.Contains(mention, result.Message);
        Assert.Equal(kind.ToString(), call.GetTrailers().GetValue(Flame.Wire.FlameStatus.ErrorKindTrailer));
    }

    /// <summary>Unary helper for <see cref="AssertFailsAsync"/>: <c>() =&gt; call.ResponseAsync</c>.</summary>
    public static Func<Task> Unary<T>(Func<AsyncUnaryCall<T>> start) => async () =>
    {
        using var call = start();
        await call.ResponseAsync;
    };

    /// <summary>Streaming helper for <see cref="AssertFailsAsync"/>: reads the whole stream.</summary>
    public static Func<Task> Streamed(Func<AsyncServerStreamingCall<WireTask>> start) => async () =>
    {
        using var call = start();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
    };

    /// <summary>The next message of a stream, failing with <paramref name="expected"/> if it ends or nothing comes in time.</summary>
    public static async Task<WireTask> NextAsync(this IAsyncStreamReader<WireTask> stream, string expected)
    {
        if (!await Wait.For(stream.MoveNext(CancellationToken.None), expected))
            Assert.Fail($"the stream ended; expected {expected}");
        return stream.Current;
    }

    /// <summary>Asserts the stream ends without another message.</summary>
    public static async Task AssertEndsAsync(this IAsyncStreamReader<WireTask> stream, string after)
    {
        if (await Wait.For(stream.MoveNext(CancellationToken.None), $"the stream to end after {after}"))
            Assert.Fail($"expected the stream to end after {after}, but it sent task {stream.Current.Metadata.Id} in state {stream.Current.Status.State}");
    }

    /// <summary>Now, in Unix epoch milliseconds, as the protocol's times are.</summary>
    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Asserts <paramref name="time"/> lies between <paramref name="before"/> and <paramref name="after"/> (Unix ms).</summary>
    public static void AssertTimeBetween(long before, long time, long after, string what) =>
        Assert.True(time >= before && time <= after, $"{what} {time} is not within [{before}, {after}] (Unix epoch ms)");
}
