using System.Net.Sockets;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Flame.Service;

/// <summary>
/// Runs a <see cref="FlameService"/> as a Flame service process: serves <c>flame.v1.Instance</c> (gRPC,
/// plaintext HTTP/2) on the Unix domain socket named by <see cref="InstanceEndpointVariable"/> until the
/// process receives SIGTERM (or SIGINT) or the given token is cancelled.
/// </summary>
/// <remarks>
/// <para>A typical <c>Program.cs</c> is one line: <c>return await FlameServiceHost.RunAsync(new MyService(), args);</c></para>
/// <para>
/// The host is deliberately small, since its start-up is on the critical path of binding an executor to
/// a session: Kestrel without HTTPS, routing and gRPC, nothing else. It writes nothing to standard output;
/// logs of level Warning and above go to standard error. A stale socket file left at the path is deleted
/// before listening, and the socket file is deleted again on exit.
/// </para>
/// <para>
/// Exit codes (returned, and also set as <see cref="Environment.ExitCode"/>): 0 after a normal stop;
/// <see cref="StartFailureExitCode"/> when <see cref="InstanceEndpointVariable"/> is missing or the socket
/// cannot be listened on (one line on standard error says why).
/// </para>
/// </remarks>
public static class FlameServiceHost
{
    /// <summary>The environment variable that holds the path of the Unix socket to listen on (a <c>unix://</c> prefix is accepted).</summary>
    public const string InstanceEndpointVariable = "FLAME_INSTANCE_ENDPOINT";

    /// <summary>
    /// The environment variable in which the executor manager passes the gateway's address (<c>http://host:port</c>),
    /// for services that open sessions themselves. The host does not use it.
    /// </summary>
    public const string GatewayEndpointVariable = "FLAME_ENDPOINT";

    /// <summary>
    /// The configuration key (<c>--Flame:Service:TaskStream=false</c> on the command line) that turns off
    /// <c>flame.v1.InstanceExt</c>, the task stream: the service then serves the standard <c>flame.v1.Instance</c>
    /// only, as a service written without this SDK does, and the executor manager calls OnTaskInvoke per task.
    /// </summary>
    public const string TaskStreamKey = "Flame:Service:TaskStream";

    /// <summary>The exit code when the process cannot start serving: 2.</summary>
    public const int StartFailureExitCode = 2;

    /// <summary>The largest message received or sent: 64 MiB (common data, inputs and outputs can be several MiB).</summary>
    public const int MaxMessageSize = 64 * 1024 * 1024;

    /// <summary>
    /// How long a stop waits for running calls to finish before the host exits anyway: 5 seconds. Calls are
    /// told to stop through their cancellation token as soon as the stop begins.
    /// </summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Serves <paramref name="service"/> until the process is told to stop; returns the exit code.</summary>
    /// <param name="service">The service; one instance serves every call of the process.</param>
    /// <param name="args">The command-line arguments (available to the host's configuration), or null.</param>
    /// <param name="cancellationToken">Stops the host when cancelled, like SIGTERM.</param>
    public static Task<int> RunAsync(FlameService service, string[]? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        return RunCoreAsync(services => services.AddSingleton(service), args, cancellationToken);
    }

    /// <summary>
    /// Serves one <typeparamref name="TService"/>, created from the host's services (its constructor may take,
    /// for example, an <see cref="ILogger{TCategoryName}"/>), until the process is told to stop; returns the exit code.
    /// </summary>
    /// <param name="args">The command-line arguments (available to the host's configuration), or null.</param>
    /// <param name="cancellationToken">Stops the host when cancelled, like SIGTERM.</param>
    public static Task<int> RunAsync<TService>(string[]? args = null, CancellationToken cancellationToken = default)
        where TService : FlameService =>
        RunCoreAsync(services => services.AddSingleton<FlameService, TService>(), args, cancellationToken);

    private static async Task<int> RunCoreAsync(Action<IServiceCollection> addService, string[]? args, CancellationToken cancellationToken)
    {
        var endpoint = Environment.GetEnvironmentVariable(InstanceEndpointVariable);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return Fail($"{InstanceEndpointVariable} is not set: this program is a Flame service, started by a Flame executor manager, "
                + "which sets it to the path of the Unix socket to listen on");
        }

        string path;
        try
        {
            path = Path.GetFullPath(endpoint.StartsWith("unix://", StringComparison.Ordinal) ? endpoint["unix://".Length..] : endpoint);
            _ = new UnixDomainSocketEndPoint(path); // throws when the path is too long for a socket address (108 bytes)
            if (!Directory.Exists(Path.GetDirectoryName(path)))
                return Fail($"cannot use {InstanceEndpointVariable}={endpoint}: the directory {Path.GetDirectoryName(path)} does not exist");
            if (File.Exists(path))
                File.Delete(path); // a stale socket from an earlier process on the same path would make the bind fail
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Fail($"cannot use {InstanceEndpointVariable}={endpoint}: {FirstSentence(ex.Message)}");
        }

        var app = Build(path, addService, args);
        try
        {
            // Resolve the service now, so that a faulty constructor fails the start rather than the first call.
            _ = app.Services.GetRequiredService<FlameService>();
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return Fail($"cannot listen on the Unix socket {path}: {Innermost(ex).Message}");
            }
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
            TryDelete(path);
        }
    }

    private static WebApplication Build(string socketPath, Action<IServiceCollection> addService, string[]? args)
    {
        // The empty builder reads no configuration files and adds no Kestrel HTTPS, IIS or static-asset
        // support: less to load, so the socket is ready sooner.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args ?? [] });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Plaintext gRPC needs HTTP/2 only: with Http1AndHttp2 and no TLS, Kestrel speaks HTTP/1.1 alone.
            kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
        });

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // A failed start is reported by RunAsync in one line; the host would add its stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(lifetime => lifetime.SuppressStatusMessages = true);

        builder.Services.AddRouting();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxMessageSize;
            grpc.MaxSendMessageSize = MaxMessageSize;
        });
        addService(builder.Services);
        // InstanceExt runs its tasks through the same InstanceService that serves OnTaskInvoke.
        builder.Services.AddSingleton<InstanceService>();

        var app = builder.Build();
        app.MapGrpcService<InstanceService>();
        if (app.Configuration.GetValue(TaskStreamKey, defaultValue: true))
            app.MapGrpcService<InstanceExtService>();
        return app;
    }

    private static int Fail(string message)
    {
        var name = Assembly.GetEntryAssembly()?.GetName().Name ?? "flame-service";
        Console.Error.WriteLine($"{name}: {message.ReplaceLineEndings(" ")}");
        Environment.ExitCode = StartFailureExitCode;
        return StartFailureExitCode;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
            ex = ex.InnerException;
        return ex;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next process on this path deletes a stale socket anyway.
        }
    }
}
