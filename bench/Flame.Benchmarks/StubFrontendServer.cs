using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;

namespace Flame.Benchmarks;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>
/// A gRPC server with the session manager's Kestrel settings whose Frontend answers CreateTask with a reply of
/// the real shape but without Orleans, grains or domain mapping: the floor that gRPC over loopback HTTP/2 costs
/// on this machine, to set against the real gateway (<c>create-task --server stub</c>).
/// </summary>
internal sealed class StubFrontendServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StubFrontendServer(WebApplication app, string endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    public static async Task<StubFrontendServer> StartAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // appsettings.json (copied next to this binary) would log at Information.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(System.Net.IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.Http2.MaxStreamsPerConnection = 10_000;
        });
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = 64 * 1024 * 1024);
        builder.Services.AddSingleton<StubFrontend>();
        var app = builder.Build();
        app.MapGrpcService<StubFrontend>();
        await app.StartAsync();
        return new StubFrontendServer(app, $"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class StubFrontend : Frontend.FrontendBase
    {
        private static readonly Result Ok = new() { ReturnCode = 0 };
        private long _tasks;
        private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public override Task<Result> RegisterApplication(RegisterApplicationRequest request, ServerCallContext context) => Task.FromResult(Ok);

        public override Task<Result> UnregisterApplication(UnregisterApplicationRequest request, ServerCallContext context) => Task.FromResult(Ok);

        public override Task<Session> CreateSession(CreateSessionRequest request, ServerCallContext context) =>
            Task.FromResult(View(request.Session?.Application ?? "stub"));

        public override Task<Session> GetSession(GetSessionRequest request, ServerCallContext context) => Task.FromResult(View("stub"));

        public override Task<Session> CloseSession(CloseSessionRequest request, ServerCallContext context) => Task.FromResult(View("stub"));

        public override Task<Session> DeleteSession(DeleteSessionRequest request, ServerCallContext context) => Task.FromResult(View("stub"));

        public override Task<Flame.V1.Task> CreateTask(CreateTaskRequest request, ServerCallContext context)
        {
            // The same shape as the gateway's answer: metadata, spec with the input, status with one event.
            var id = Interlocked.Increment(ref _tasks).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var spec = new TaskSpec { SessionId = request.Task.SessionId };
            if (request.Task.HasInput)
                spec.Input = request.Task.Input;
            var status = new Flame.V1.TaskStatus { State = TaskState.Pending, CreationTime = now };
            status.Events.Add(new Event { Code = 0, Message = "created", CreationTime = now });
            return Task.FromResult(new Flame.V1.Task
            {
                Metadata = new Metadata { Id = id, Name = id },
                Spec = spec,
                Status = status,
            });
        }

        private Session View(string application) => new()
        {
            Metadata = new Metadata { Id = "stub-session", Name = "stub-session" },
            Spec = new SessionSpec { Application = application },
            Status = new SessionStatus { State = SessionState.Open, CreationTime = _created, Pending = (int)Interlocked.Read(ref _tasks) },
        };
    }
}
