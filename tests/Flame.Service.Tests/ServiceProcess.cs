using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.Service.Tests;

/// <summary>
/// A service program run as a real process, the way an executor manager runs it: <c>dotnet PROGRAM.dll</c>
/// with <c>FLAME_INSTANCE_ENDPOINT</c> naming a Unix socket in a fresh temporary folder.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    public const string TestService = "flame-test-service";
    public const string PingService = "flmping-service";
    public const string PiService = "pi-service";

    /// <summary>Generous, for a loaded 2-core CI machine; a service is normally ready in well under a second.</summary>
    public static TimeSpan ReadyTimeout => Wait.Scaled(TimeSpan.FromSeconds(30));

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly string _directory;
    private Stopwatch _started = new();
    private GrpcChannel? _channel;

    private ServiceProcess(Process process, string directory, string socketPath)
    {
        _process = process;
        _directory = directory;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public int Id => _process.Id;

    public string Directory => _directory;

    /// <summary>Time from <see cref="Process.Start()"/> to a socket that accepts connections (set by <see cref="WaitUntilReadyAsync"/>).</summary>
    public TimeSpan StartUpTime { get; private set; }

    public string StandardOutput
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string StandardError
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>The path of a built program next to this test assembly (copied there by the project references).</summary>
    public static string ProgramPath(string program)
    {
        var path = Path.Combine(AppContext.BaseDirectory, program + ".dll");
        Assert.True(File.Exists(path), $"expected the service program {path}: the project reference should have copied it there");
        return path;
    }

    /// <summary>Starts <paramref name="program"/>; <paramref name="environment"/> entries with a null value are removed.</summary>
    public static ServiceProcess Start(
        string program, IReadOnlyDictionary<string, string?>? environment = null, Action<string>? prepare = null,
        IReadOnlyList<string>? arguments = null)
    {
        // Short, so that the socket path stays well under the 108-byte limit of sun_path.
        var directory = Path.Combine(Path.GetTempPath(), "fst-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(directory);
        var socketPath = Path.Combine(directory, "instance.sock");
        prepare?.Invoke(socketPath);

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.ArgumentList.Add(ProgramPath(program));
        foreach (var argument in arguments ?? [])
            start.ArgumentList.Add(argument);
        start.Environment["FLAME_INSTANCE_ENDPOINT"] = socketPath;
        start.Environment["FLAME_ENDPOINT"] = "http://127.0.0.1:1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, directory, socketPath);
        process.OutputDataReceived += (_, e) => Append(service._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(service._stderr, e.Data);
        service._started = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Waits until the socket accepts a connection; fails early, with its stderr, if the process exits first.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                Assert.Fail($"expected {SocketPath} to accept connections, but the process exited with code {_process.ExitCode}; stderr: {StandardError}");
            if (File.Exists(SocketPath) && await CanConnectAsync(SocketPath))
            {
                StartUpTime = _started.Elapsed;
                return;
            }
            if (deadline.Elapsed > ReadyTimeout)
                Assert.Fail($"expected {SocketPath} to accept connections within {ReadyTimeout.TotalSeconds} s; socket file exists: {File.Exists(SocketPath)}; stderr: {StandardError}");
            // Polling the file system: there is no event to wait on for "a socket appeared in another process".
            await Task.Delay(10);
        }
    }

    /// <summary>A client of the process's <c>flame.v1.Instance</c> service over its Unix socket.</summary>
    public V1.Instance.InstanceClient CreateClient()
    {
        _channel ??= CreateChannel(SocketPath);
        return new V1.Instance.InstanceClient(_channel);
    }

    /// <summary>A client of the process's <c>flame.v1.InstanceExt</c> service (the task stream), on the same connection.</summary>
    public V1.InstanceExt.InstanceExtClient CreateExtClient()
    {
        _channel ??= CreateChannel(SocketPath);
        return new V1.InstanceExt.InstanceExtClient(_channel);
    }

    /// <summary>
    /// The way an executor manager connects: any "http://" address (the host name is not used), with a
    /// connect callback that opens the Unix socket instead of TCP. Plaintext HTTP/2 is gRPC's default for http.
    /// </summary>
    public static GrpcChannel CreateChannel(string socketPath) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            MaxSendMessageSize = 64 * 1024 * 1024,
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
        });

    public static CallOptions Deadline() => new(deadline: DateTime.UtcNow + Wait.Scaled(TimeSpan.FromSeconds(30)));

    /// <summary>Waits for the process to exit and returns its exit code; fails if it is still running after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        timeout = Wait.Scaled(timeout);
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"expected the process to exit within {timeout.TotalSeconds} s, but it is still running; stderr: {StandardError}");
        }
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as an executor manager does to stop a service.</summary>
    public void Terminate() => Assert.Equal(0, Kill(_process.Id, 15));

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<bool> CanConnectAsync(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
            return;
        lock (builder)
            builder.AppendLine(line);
    }

    // The host that runs the tests (set by the SDK for dotnet test), else dotnet on the PATH.
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
