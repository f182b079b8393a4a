using System.Diagnostics;
using System.Net.Http;
using System.Net.Sockets;
using Flame.ExecutorManager.Gateway;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flame.ExecutorManager.Shims;

/// <summary>
/// The Host shim: one service process on this machine, started for an executor (it may serve several sessions of
/// its application in turn), reached over gRPC (flame.v1.Instance) on the Unix socket it listens on. One channel
/// per process.
/// </summary>
internal sealed class HostShim : IDisposable
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(50);

    private readonly ExecutorDirectory _directory;
    private ServiceProcess? _process;
    private GrpcChannel? _channel;
    private V1.Instance.InstanceClient? _client;
    private TaskChannel? _tasks;

    public HostShim(ExecutorDirectory directory, V1.Application? application = null)
    {
        _directory = directory;
        Application = application;
    }

    /// <summary>The application the process is started for (null in tests that start a bare process).</summary>
    public V1.Application? Application { get; }

    /// <summary>How the service gets its tasks, chosen when it started (null before).</summary>
    public TaskChannel? Tasks => _tasks;

    /// <summary>The Instance client of the running service.</summary>
    public V1.Instance.InstanceClient Client => _client ?? throw new InvalidOperationException("the service is not started");

    /// <summary>The service's process id, or 0 before it started.</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Whether the service process is running.</summary>
    public bool IsAlive => _process is { HasExited: false };

    /// <summary>The exit code of a service that has exited.</summary>
    public int ExitCode => _process?.ExitCode ?? 0;

    /// <summary>
    /// Starts the service and waits until it accepts connections on its socket. Polls with a short, growing interval
    /// (5 ms to 50 ms) for at most <paramref name="timeout"/>. Then chooses how its tasks go (<see cref="Tasks"/>):
    /// once for the process, before any task.
    /// </summary>
    /// <exception cref="ServiceStartException">It could not start, exited first, or did not listen in time; the message
    /// says which, with its exit code and the last lines of its log.</exception>
    public async Task StartAsync(ProcessStartInfo info, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _directory.Prepare();
        _process = ServiceProcess.Start(info, _directory.LogPath);
        var started = Stopwatch.GetTimestamp();
        var poll = FirstPoll;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.Exists(_directory.SocketPath) && await CanConnectAsync(_directory.SocketPath, cancellationToken).ConfigureAwait(false))
                break;
            if (_process.HasExited)
            {
                throw new ServiceStartException(
                    $"the process exited with code {_process.ExitCode} before listening on {_directory.SocketPath}"
                    + await LogTailAsync().ConfigureAwait(false));
            }
            if (Stopwatch.GetElapsedTime(started) >= timeout)
            {
                _process.KillTree();
                throw new ServiceStartException(
                    $"the process did not listen on {_directory.SocketPath} within {timeout.TotalSeconds:0.###}s; it was killed"
                    + await LogTailAsync().ConfigureAwait(false));
            }
            await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
            poll = TimeSpan.FromTicks(Math.Min(LongestPoll.Ticks, poll.Ticks * 2));
        }
        _channel = CreateChannel(_directory.SocketPath);
        _client = new V1.Instance.InstanceClient(_channel);
        _tasks = await TaskChannel.ChooseAsync(_channel, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one task through the service's <see cref="Tasks"/> channel.</summary>
    /// <param name="context">The task.</param>
    /// <param name="deadline">When to give up on the task: the call is cancelled and
    /// <see cref="OperationCanceledException"/> thrown.</param>
    /// <param name="cancellationToken">The binding's token; it also bounds the stream.</param>
    /// <exception cref="RpcException">The service failed the call, broke the connection, or exited.</exception>
    public Task<V1.TaskResult> InvokeAsync(V1.TaskContext context, DateTime? deadline, CancellationToken cancellationToken) =>
        Started.InvokeAsync(context, deadline, cancellationToken);

    /// <summary>
    /// Whether tasks can be sent ahead of their results (<see cref="InvokePipelinedAsync"/>): the service serves the
    /// InstanceExt stream, where it runs its tasks in order, one at a time.
    /// </summary>
    public bool CanPipeline => _tasks?.CanPipeline ?? false;

    /// <summary>Whether the task stream is open: false after it broke (the next task opens a new one).</summary>
    public bool TaskStreamOpen => _tasks?.IsOpen ?? false;

    /// <summary>
    /// Runs a task on the service's stream with the next one sent behind it, so that the service finds that one
    /// waiting: sends <paramref name="task"/> (null: it was sent behind the one before), then <paramref name="behind"/>
    /// if given, then waits for the result of <paramref name="task"/>. Everything is bounded by
    /// <paramref name="deadline"/>, the writes too (a write blocks while the service does not read, e.g. a large input
    /// behind a task that hangs). <c>BehindSent</c>: whether <paramref name="behind"/> is on the stream; it is not
    /// when its write failed, and the result is then awaited all the same (the stream may have broken: the running
    /// task's receive says so). Only when <see cref="CanPipeline"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The deadline passed (or the binding's token was cancelled).</exception>
    /// <exception cref="RpcException">The service failed the stream, broke the connection, or exited.</exception>
    public Task<(V1.TaskResult Result, bool BehindSent)> InvokePipelinedAsync(
        V1.TaskContext? task, V1.TaskContext? behind, DateTime? deadline, CancellationToken cancellationToken) =>
        Started.InvokePipelinedAsync(task, behind, deadline, cancellationToken);

    private TaskChannel Started => _tasks ?? throw new InvalidOperationException("the service is not started");

    /// <summary>Waits up to <paramref name="timeout"/> for the service to exit; true if it has.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process?.WaitForExitAsync(timeout) ?? Task.FromResult(true);

    /// <summary>
    /// <c>"; last lines of service.log: ..."</c> for an error message, or nothing if the log is empty.
    /// </summary>
    public async Task<string> LogTailAsync()
    {
        if (_process is null)
            return "";
        var tail = await _process.ReadLogTailAsync(lines: 10, drain: TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
        return tail.Length == 0 ? "" : $"; last lines of {ExecutorDirectory.LogFileName}:\n{tail}";
    }

    /// <summary>Calls OnSessionLeave if the service is alive, for at most <paramref name="timeout"/>.</summary>
    /// <returns>The service's answer, or null if it is dead, did not answer in time, or failed.</returns>
    public async Task<V1.Result?> TryLeaveSessionAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_client is null || !IsAlive || timeout <= TimeSpan.Zero)
            return null;
        try
        {
            // The task stream ends first, so that the service sees its tasks end before it leaves.
            if (_tasks is { IsOpen: true } tasks)
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                limit.CancelAfter(timeout);
                await tasks.CloseAsync(limit.Token).ConfigureAwait(false);
            }
            return await _client.OnSessionLeaveAsync(
                new V1.EmptyRequest(), deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Kills the service and its children at once.</summary>
    public void Kill() => _process?.KillTree();

    /// <summary>SIGTERM, <paramref name="grace"/>, then kill; closes the channel. True if it exited within the grace.</summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        _tasks?.Drop();
        _channel?.Dispose();
        _channel = null;
        _client = null;
        return _process is null || await _process.StopAsync(grace).ConfigureAwait(false);
    }

    /// <summary>Kills whatever still runs and removes the socket.</summary>
    public void Dispose()
    {
        _tasks?.Drop();
        _channel?.Dispose();
        _process?.Dispose();
        try
        {
            File.Delete(_directory.SocketPath);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task<bool> CanConnectAsync(string path, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A plaintext HTTP/2 channel whose every connection is a connection to the Unix socket at <paramref name="path"/>.</summary>
    internal static GrpcChannel CreateChannel(string path)
    {
        var endpoint = new UnixDomainSocketEndPoint(path);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = GatewayConnection.MaxMessageSize,
            MaxSendMessageSize = GatewayConnection.MaxMessageSize,
            ThrowOperationCanceledOnCancellation = true,
        });
    }
}
