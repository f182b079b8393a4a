using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Tests.Support;

/// <summary>
/// A real Kestrel gRPC server on a free loopback port, serving <see cref="FakeBackend"/>, and with
/// <c>taskStream</c> also <see cref="FakeBackendExt"/> (without it the node falls back to the standard calls), which
/// grants task windows with <c>windows</c>.
/// </summary>
public sealed class FakeGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeGateway(WebApplication app, FakeBackend backend, string endpoint)
    {
        _app = app;
        Backend = backend;
        Endpoint = endpoint;
    }

    public FakeBackend Backend { get; }

    public string Endpoint { get; }

    /// <summary>
    /// Starts a gateway; with <paramref name="backend"/>, one more gateway of the same "cluster": every gateway started
    /// with it serves the same executors, tasks and calls, as two gateways of one cluster reach the same grains.
    /// </summary>
    public static async Task<FakeGateway> StartAsync(bool taskStream = false, bool windows = false, FakeBackend? backend = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        backend ??= new FakeBackend { GrantsWindows = windows };
        builder.Services.AddSingleton(backend);
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<FakeBackend>();
        if (taskStream)
            app.MapGrpcService<FakeBackendExt>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new FakeGateway(app, backend, address);
    }

    /// <summary>
    /// Dies as a crashed gateway does: its connections are aborted at once (the peers see them reset), the calls in
    /// flight end unanswered, and nothing listens any more.
    /// </summary>
    public async Task KillAsync()
    {
        using (var now = new CancellationTokenSource())
        {
            await now.CancelAsync();
            await _app.StopAsync(now.Token);
        }
        await _app.DisposeAsync();
        _killed = true;
    }

    private bool _killed;

    public async ValueTask DisposeAsync()
    {
        if (_killed)
            return;
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
            await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
