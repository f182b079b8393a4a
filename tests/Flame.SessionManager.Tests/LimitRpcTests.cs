using Flame.Client;
using Flame.SessionManager.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>A gateway of its own with every cap of <c>Flame:Limits</c> set small, so that tests reach them cheaply.</summary>
public sealed class LimitedGatewayFixture : IAsyncLifetime
{
    public const int MaxPendingTasksPerSession = 5;
    public const int MaxTasksPerCreateTasks = 4;
    public const int MaxWatchStreamsPerConnection = 3;
    public const int MaxDescriptionBytes = 64;
    public const int MaxLabels = 3;
    public const int MaxLabelBytes = 16;
    public const int MaxArguments = 3;
    public const int MaxArgumentsBytes = 32;
    public const int MaxEnvironments = 2;
    public const int MaxEnvironmentBytes = 32;
    public const int MaxFieldBytes = 32;
    public const int MaxSchemaBytes = 32;

    private InProcessGateway? _gateway;

    public string Endpoint => _gateway!.Endpoint;

    public GrpcChannel Channel { get; private set; } = null!;

    public Frontend.FrontendClient Frontend { get; private set; } = null!;

    /// <summary>The silo's grain factory, for the in-process transport.</summary>
    public Orleans.IGrainFactory Grains => _gateway!.Services.GetRequiredService<Orleans.IGrainFactory>();

    public async Task InitializeAsync()
    {
        _gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?>
        {
            ["Flame:Limits:MaxPendingTasksPerSession"] = $"{MaxPendingTasksPerSession}",
            ["Flame:Limits:MaxTasksPerCreateTasks"] = $"{MaxTasksPerCreateTasks}",
            ["Flame:Limits:MaxWatchStreamsPerConnection"] = $"{MaxWatchStreamsPerConnection}",
            ["Flame:Limits:MaxApplicationDescriptionBytes"] = $"{MaxDescriptionBytes}",
            ["Flame:Limits:MaxApplicationLabels"] = $"{MaxLabels}",
            ["Flame:Limits:MaxApplicationLabelBytes"] = $"{MaxLabelBytes}",
            ["Flame:Limits:MaxApplicationArguments"] = $"{MaxArguments}",
            ["Flame:Limits:MaxApplicationArgumentsBytes"] = $"{MaxArgumentsBytes}",
            ["Flame:Limits:MaxApplicationEnvironments"] = $"{MaxEnvironments}",
            ["Flame:Limits:MaxApplicationEnvironmentBytes"] = $"{MaxEnvironmentBytes}",
            ["Flame:Limits:MaxApplicationFieldBytes"] = $"{MaxFieldBytes}",
            ["Flame:Limits:MaxApplicationSchemaBytes"] = $"{MaxSchemaBytes}",
        });
        Channel = NewChannel();
        Frontend = new Frontend.FrontendClient(Channel);
    }

    /// <summary>A channel of its own: one more HTTP/2 connection to the gateway.</summary>
    public GrpcChannel NewChannel() => GrpcChannel.ForAddress(Endpoint, GrpcFlameClient.CreateChannelOptions());

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_gateway is not null)
            await _gateway.DisposeAsync();
    }
}

/// <summary>
/// Every cap of <c>Flame:Limits</c> from outside, over real gRPC: the status (RESOURCE_EXHAUSTED for what a caller
/// holds, INVALID_ARGUMENT for the shape of a request), a message naming the limit's key, and nothing changed.
/// </summary>
public sealed class LimitRpcTests(LimitedGatewayFixture gateway) : IClassFixture<LimitedGatewayFixture>
{
    private const string Key = "Flame:Limits:";

    private Frontend.FrontendClient Frontend => gateway.Frontend;

    private static CreateTasksRequest Inputs(string sessionId, int count)
    {
        var request = new CreateTasksRequest { SessionId = sessionId };
        for (var i = 0; i < count; i++)
            request.Inputs.Add(ByteString.CopyFromUtf8($"in-{i}"));
        return request;
    }

    // ---------------------------------------------------------------- tasks

    [Fact]
    public async Task CreateTask_IsRefusedWithResourceExhausted_WhenTheSessionHoldsTheMostPendingTasks_AndCreatesNothing()
    {
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        for (var i = 0; i < LimitedGatewayFixture.MaxPendingTasksPerSession; i++)
            await Frontend.NewTaskAsync(id, $"t{i}");

        await AssertFailsAsync(StatusCode.ResourceExhausted, Unary(() => Frontend.CreateTaskAsync(new CreateTaskRequest
            {
                Task = new TaskSpec { SessionId = id, Input = ByteString.CopyFromUtf8("one too many") },
            })),
            id, $"{LimitedGatewayFixture.MaxPendingTasksPerSession}", Key + "MaxPendingTasksPerSession");

        await Frontend.AssertCountersAsync(id, pending: LimitedGatewayFixture.MaxPendingTasksPerSession);
        // The cap is per session: another session of the same caller still queues.
        var other = (await Frontend.NewSessionAsync()).Metadata.Id;
        Assert.Equal("1", (await Frontend.NewTaskAsync(other)).Metadata.Id);
    }

    [Fact]
    public async Task CreateTasks_IsRefusedWithResourceExhausted_WhenItWouldPassTheMostPendingTasks_ButFillsTheQueueExactly()
    {
        var ext = new FrontendExt.FrontendExtClient(gateway.Channel);
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;
        await ext.CreateTasksAsync(Inputs(id, 3));

        await AssertFailsAsync(StatusCode.ResourceExhausted, Unary(() => ext.CreateTasksAsync(Inputs(id, 3))),
            id, "3 more", Key + "MaxPendingTasksPerSession", "no task was created");
        await Frontend.AssertCountersAsync(id, pending: 3);

        var filled = await ext.CreateTasksAsync(Inputs(id, 2));
        Assert.Equal((4L, 2), (filled.FirstTaskId, filled.Count));
        await Frontend.AssertCountersAsync(id, pending: LimitedGatewayFixture.MaxPendingTasksPerSession);
    }

    [Fact]
    public async Task CreateTasks_IsRefusedWithInvalidArgument_WhenOneCallCarriesMoreThanTheMostTasksPerCall()
    {
        var ext = new FrontendExt.FrontendExtClient(gateway.Channel);
        var id = (await Frontend.NewSessionAsync()).Metadata.Id;

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => ext.CreateTasksAsync(Inputs(id, LimitedGatewayFixture.MaxTasksPerCreateTasks + 1))),
            $"{LimitedGatewayFixture.MaxTasksPerCreateTasks + 1} inputs", Key + "MaxTasksPerCreateTasks", "no task was created");
        await Frontend.AssertCountersAsync(id);

        var created = await ext.CreateTasksAsync(Inputs(id, LimitedGatewayFixture.MaxTasksPerCreateTasks));
        Assert.Equal(LimitedGatewayFixture.MaxTasksPerCreateTasks, created.Count);
    }

    [Fact]
    public async Task TheInProcessClient_IsRefusedTheSameWay_AsGrpc()
    {
        await using var grpc = new GrpcFlameClient(gateway.Endpoint);
        await using var orleans = new OrleansFlameClient(gateway.Grains);
        var app = await Frontend.RegisterAppAsync();
        var full = (await grpc.CreateSessionAsync(null, new Flame.SessionSpec { Application = app })).Id;
        for (var i = 0; i < LimitedGatewayFixture.MaxPendingTasksPerSession; i++)
            await grpc.CreateTaskAsync(full, null);
        var calls = new Dictionary<string, Func<IFlameClient, Task>>
        {
            ["pending tasks"] = c => c.CreateTaskAsync(full, null),
            ["tasks per call"] = c => c.CreateTasksAsync(full, new byte[]?[LimitedGatewayFixture.MaxTasksPerCreateTasks + 1]),
            ["description"] = c => c.RegisterApplicationAsync("papp-big",
                new Flame.ApplicationSpec { Command = "/bin/true", Description = new string('d', LimitedGatewayFixture.MaxDescriptionBytes + 1) }),
            ["control character"] = c => c.RegisterApplicationAsync("papp-ctl", new Flame.ApplicationSpec { Command = "/bin/true\0" }),
            ["reserved id"] = c => c.CreateSessionAsync("..", new Flame.SessionSpec { Application = app }),
        };

        foreach (var (what, call) in calls)
        {
            var g = Assert.IsType<FlameException>(await Record.ExceptionAsync(() => call(grpc)));
            var o = Assert.IsType<FlameException>(await Record.ExceptionAsync(() => call(orleans)));
            Assert.True((g.Kind, g.Message) == (o.Kind, o.Message),
                $"{what}: gRPC threw {g.Kind} '{g.Message}', in-process threw {o.Kind} '{o.Message}'");
        }
        Assert.Equal(FlameErrorKind.ResourceExhausted,
            (await Assert.ThrowsAsync<FlameException>(() => grpc.CreateTaskAsync(full, null))).Kind);
    }

    // ---------------------------------------------------------------- applications

    private static ApplicationSpec Valid() => new() { Shim = Shim.Host, Command = "/bin/true" };

    public static TheoryData<string, string> OversizedFields => new()
    {
        { "description", "MaxApplicationDescriptionBytes" },
        { "labels", "MaxApplicationLabels" },
        { "label", "MaxApplicationLabelBytes" },
        { "arguments", "MaxApplicationArguments" },
        { "argument bytes", "MaxApplicationArgumentsBytes" },
        { "environments", "MaxApplicationEnvironments" },
        { "environment bytes", "MaxApplicationEnvironmentBytes" },
        { "command", "MaxApplicationFieldBytes" },
        { "working_directory", "MaxApplicationFieldBytes" },
        { "image", "MaxApplicationFieldBytes" },
        { "url", "MaxApplicationFieldBytes" },
        { "installer", "MaxApplicationFieldBytes" },
        { "schema", "MaxApplicationSchemaBytes" },
    };

    /// <summary>A valid spec whose <paramref name="field"/> is one over its limit (<paramref name="over"/>) or exactly at it.</summary>
    private static ApplicationSpec WithField(string field, bool over)
    {
        var extra = over ? 1 : 0;
        string Text(int bytes) => new('x', bytes + extra);
        var spec = Valid();
        switch (field)
        {
            case "description": spec.Description = Text(LimitedGatewayFixture.MaxDescriptionBytes); break;
            case "labels": spec.Labels.Add(Enumerable.Range(0, LimitedGatewayFixture.MaxLabels + extra).Select(i => $"l{i}")); break;
            case "label": spec.Labels.Add(Text(LimitedGatewayFixture.MaxLabelBytes)); break;
            case "arguments": spec.Arguments.Add(Enumerable.Range(0, LimitedGatewayFixture.MaxArguments + extra).Select(i => $"a{i}")); break;
            case "argument bytes":
                spec.Arguments.Add(new string('a', LimitedGatewayFixture.MaxArgumentsBytes / 2));
                spec.Arguments.Add(new string('b', LimitedGatewayFixture.MaxArgumentsBytes / 2 + extra));
                break;
            case "environments":
                spec.Environments.Add(Enumerable.Range(0, LimitedGatewayFixture.MaxEnvironments + extra).Select(i => new Flame.V1.Environment { Name = $"V{i}", Value = "1" }));
                break;
            case "environment bytes":
                // Names and values count together: 2 + 14 + 2 + 14 (+1) bytes.
                spec.Environments.Add(new Flame.V1.Environment { Name = "V1", Value = new string('v', 14) });
                spec.Environments.Add(new Flame.V1.Environment { Name = "V2", Value = new string('w', 14 + extra) });
                break;
            case "command": spec.Command = "/" + Text(LimitedGatewayFixture.MaxFieldBytes - 1); break;
            case "working_directory": spec.WorkingDirectory = "/" + Text(LimitedGatewayFixture.MaxFieldBytes - 1); break;
            case "image": spec.Image = Text(LimitedGatewayFixture.MaxFieldBytes); break;
            case "url": spec.Url = Text(LimitedGatewayFixture.MaxFieldBytes); break;
            case "installer": spec.Installer = Text(LimitedGatewayFixture.MaxFieldBytes); break;
            case "schema": spec.Schema = new ApplicationSchema { Output = Text(LimitedGatewayFixture.MaxSchemaBytes) }; break;
            default: throw new ArgumentOutOfRangeException(nameof(field));
        }
        return spec;
    }

    [Theory]
    [MemberData(nameof(OversizedFields))]
    public async Task RegisterApplication_IsRefusedWithInvalidArgument_WhenAFieldPassesItsLimit_AndAcceptsItAtTheLimit(string field, string key)
    {
        var name = Names.Unique("app-big");

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = WithField(field, over: true) })),
            name, Key + key);
        await AssertFailsAsync(StatusCode.NotFound, Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })), name);

        var atLimit = WithField(field, over: false);
        Assert.Equal(0, (await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = atLimit })).ReturnCode);
        Assert.Equal(atLimit, (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec);
    }

    [Fact]
    public async Task UpdateApplication_IsRefusedWithInvalidArgument_WhenAFieldPassesItsLimit_AndKeepsTheOldSpec()
    {
        var name = await Frontend.RegisterAppAsync("app-upd");
        var before = await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name });

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.UpdateApplicationAsync(new UpdateApplicationRequest { Name = name, Application = WithField("description", over: true) })),
            name, Key + "MaxApplicationDescriptionBytes");

        Assert.Equal(before, await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name }));
    }

    public static TheoryData<string, string> ControlCharacters => new()
    {
        { "NUL in the command", "U+0000" },
        { "newline in the command", "U+000A" },
        { "escape in a variable name", "U+001B" },
        { "NUL in a variable value", "U+0000" },
        { "NUL in an argument", "U+0000" },
        { "newline in a label", "U+000A" },
        { "right-to-left override in the working directory", "U+202E" },
        { "bell in the description", "U+0007" },
    };

    [Theory]
    [MemberData(nameof(ControlCharacters))]
    public async Task RegisterApplication_IsRefusedWithInvalidArgument_WhenAFieldHoldsAControlCharacter(string where, string codePoint)
    {
        var name = Names.Unique("app-ctl");
        var spec = Valid();
        switch (where)
        {
            case "NUL in the command": spec.Command = "/bin/tr\0ue"; break;
            case "newline in the command": spec.Command = "/bin/true\nrm"; break;
            case "escape in a variable name": spec.Environments.Add(new Flame.V1.Environment { Name = "A\u001b[2J", Value = "1" }); break;
            case "NUL in a variable value": spec.Environments.Add(new Flame.V1.Environment { Name = "A", Value = "1\0" }); break;
            case "NUL in an argument": spec.Arguments.Add("a\0b"); break;
            case "newline in a label": spec.Labels.Add("a\nb"); break;
            case "right-to-left override in the working directory": spec.WorkingDirectory = "/tmp/\u202Eexe"; break;
            case "bell in the description": spec.Description = "ding\a"; break;
            default: throw new ArgumentOutOfRangeException(nameof(where));
        }

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = spec })),
            name, codePoint);
        await AssertFailsAsync(StatusCode.NotFound, Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })), name);
    }

    [Fact]
    public async Task RegisterApplication_Accepts_TabsAndLineBreaksInArgumentsValuesAndTheDescription()
    {
        var name = Names.Unique("app-multi");
        var spec = Valid();
        spec.Arguments.Add("-c");
        spec.Arguments.Add("a\n\tb\r\n");
        spec.Environments.Add(new Flame.V1.Environment { Name = "PEM", Value = "-----\nK\n-----" });
        spec.Description = "line one\nline two";

        Assert.Equal(0, (await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = spec })).ReturnCode);
        Assert.Equal(spec, (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec);
    }

    [Fact]
    public async Task RegisterApplication_IsRefusedWithInvalidArgument_ForAShimTheProtocolDoesNotKnow()
    {
        var name = Names.Unique("app-shim");
        var spec = Valid();
        spec.Shim = (Shim)7;

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = spec })),
            name, "shim 7", "Host (0)", "Wasm (1)");
        await AssertFailsAsync(StatusCode.NotFound, Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })), name);
    }

    // ---------------------------------------------------------------- ids

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task DotIds_AreRefused_ForSessionsNodesAndExecutorsWithInvalidArgument_AndForApplicationsWithResultMinusOne(string id)
    {
        var backend = new Backend.BackendClient(gateway.Channel);
        var app = await Frontend.RegisterAppAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument, Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest
            {
                SessionId = id, Session = new SessionSpec { Application = app },
            })),
            "session id", $"'{id}'", "reserved");
        await AssertNameRefusedAsync(() => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = id, Application = Valid() }),
            "application name", "reserved");
        await AssertFailsAsync(StatusCode.InvalidArgument, Unary(() => backend.RegisterNodeAsync(new RegisterNodeRequest
            {
                Node = new Node { Metadata = new Metadata { Id = id, Name = id }, Spec = new NodeSpec { Hostname = "h" } },
            })),
            "node name", "reserved");
        await AssertFailsAsync(StatusCode.InvalidArgument, Unary(() => backend.RegisterExecutorAsync(new RegisterExecutorRequest
            {
                ExecutorId = id, ExecutorSpec = new ExecutorSpec { Node = "node-1" },
            })),
            "executor id", "reserved");
        Assert.DoesNotContain(id, await Frontend.ListSessionIdsAsync());
    }

    /// <summary>
    /// Asserts that an application change (RegisterApplication, UpdateApplication, UnregisterApplication: the RPCs that
    /// answer with a Result) is refused for its name as Flame refuses it: <c>Result{return_code: -1}</c>, not a gRPC
    /// status, with a message that says why.
    /// </summary>
    private static async Task AssertNameRefusedAsync(Func<AsyncUnaryCall<Result>> start, params string[] mentions)
    {
        using var call = start();
        var result = await Wait.For(call.ResponseAsync, "a Result refusing the name");
        Assert.Equal(-1, result.ReturnCode);
        foreach (var mention in mentions)
            Assert.Contains(mention, result.Message);
    }

    [Fact]
    public async Task IdsWithASlash_AreRefusedWithInvalidArgument()
    {
        var app = await Frontend.RegisterAppAsync();

        await AssertFailsAsync(StatusCode.InvalidArgument, Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest
            {
                SessionId = "../etc", Session = new SessionSpec { Application = app },
            })),
            "session id", "'/'");
    }

    // ---------------------------------------------------------------- watch streams

    private static AsyncServerStreamingCall<Flame.V1.Task> Watch(Frontend.FrontendClient frontend, string sessionId, string taskId) =>
        frontend.WatchTask(new WatchTaskRequest { SessionId = sessionId, TaskId = taskId });

    /// <summary>A connection of its own with every watch place taken: WatchTask streams of task 1 of a new session, each answered.</summary>
    private sealed class FullConnection : IDisposable
    {
        public required GrpcChannel Channel { get; init; }
        public required Frontend.FrontendClient Frontend { get; init; }
        public required string SessionId { get; init; }
        public List<AsyncServerStreamingCall<Flame.V1.Task>> Calls { get; } = [];

        public static async Task<FullConnection> OpenAsync(LimitedGatewayFixture gateway)
        {
            var channel = gateway.NewChannel();
            var frontend = new Frontend.FrontendClient(channel);
            var id = (await frontend.NewSessionAsync()).Metadata.Id;
            await frontend.NewTaskAsync(id);
            var full = new FullConnection { Channel = channel, Frontend = frontend, SessionId = id };
            for (var i = 0; i < LimitedGatewayFixture.MaxWatchStreamsPerConnection; i++)
            {
                var call = Watch(frontend, id, "1");
                full.Calls.Add(call);
                // Its first answer means the gateway counted it.
                await call.ResponseStream.NextAsync($"watch {i + 1}'s first state");
            }
            return full;
        }

        public void Dispose()
        {
            foreach (var call in Calls)
                call.Dispose();
            Channel.Dispose();
        }
    }

    [Fact]
    public async Task AWatchStreamBeyondTheLimit_IsRefusedWithResourceExhausted_OnThatConnectionOnly_UntilOneEnds()
    {
        using var full = await FullConnection.OpenAsync(gateway);
        var (frontend, id) = (full.Frontend, full.SessionId);

        await AssertFailsAsync(StatusCode.ResourceExhausted, Streamed(() => Watch(frontend, id, "1")),
            "WatchTask", $"{LimitedGatewayFixture.MaxWatchStreamsPerConnection}", Key + "MaxWatchStreamsPerConnection");
        // Calls that end are not counted: the full connection still serves them.
        Assert.Equal(TaskState.Pending, (await frontend.GetTaskAsync(new GetTaskRequest { SessionId = id, TaskId = "1" })).Status.State);
        // Another connection has its own count.
        using var other = Watch(gateway.Frontend, id, "1");
        await other.ResponseStream.NextAsync("a watch on another connection");

        // Closing the session ends the watches (Cancelled, then the end of each stream): their places are free.
        await frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = id });
        foreach (var call in full.Calls)
        {
            Assert.Equal(TaskState.Cancelled, (await call.ResponseStream.NextAsync("the task's change to Cancelled")).Status.State);
            await call.ResponseStream.AssertEndsAsync("the terminal state Cancelled");
        }
        using var again = Watch(frontend, id, "1");
        Assert.Equal(TaskState.Cancelled, (await again.ResponseStream.NextAsync("a watch in a place an ended watch freed")).Status.State);
    }

    [Fact]
    public async Task WatchSessionWatchNodeAndHealthWatch_CountAgainstTheSameLimit_AsWatchTask()
    {
        using var full = await FullConnection.OpenAsync(gateway);

        var ext = new FrontendExt.FrontendExtClient(full.Channel);
        await AssertFailsAsync(StatusCode.ResourceExhausted, async () =>
        {
            using var call = ext.WatchSession(new WatchSessionRequest { SessionId = full.SessionId });
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }, "WatchSession", Key + "MaxWatchStreamsPerConnection");

        var backend = new Backend.BackendClient(full.Channel);
        await AssertFailsAsync(StatusCode.ResourceExhausted, async () =>
        {
            // Refused before the gateway reads the first message (the node's heartbeat).
            using var call = backend.WatchNode();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }, "WatchNode", Key + "MaxWatchStreamsPerConnection");

        // Public (no token needed), so the most open of all to hold streams with.
        var health = new global::Grpc.Health.V1.Health.HealthClient(full.Channel);
        await AssertFailsAsync(StatusCode.ResourceExhausted, async () =>
        {
            using var call = health.Watch(new global::Grpc.Health.V1.HealthCheckRequest());
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }, "grpc.health.v1.Health/Watch", Key + "MaxWatchStreamsPerConnection");
    }
}
