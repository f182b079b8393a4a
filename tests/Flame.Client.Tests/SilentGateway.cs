using System.Net;
using System.Net.Sockets;

namespace Flame.Client.Tests;

/// <summary>
/// A gateway that is up but never answers: a real loopback socket that listens and writes nothing back (no HTTP/2
/// settings), as a gateway does whose process hangs. With <c>acceptConnections: false</c> its accept queue is full, so
/// a new connection is never completed (the kernel drops the handshake), as with a gateway slow to take connections.
/// </summary>
internal sealed class SilentGateway : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private readonly Task _accepting;

    public SilentGateway(bool acceptConnections = true)
    {
        _listener = new TcpListener(IPAddress.Loopback, FreePorts.Next());
        _listener.Start(acceptConnections ? 16 : 1);
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        if (acceptConnections)
        {
            _accepting = AcceptAsync();
            return;
        }
        _accepting = Task.CompletedTask;
        // Connections of its own fill the queue (Linux keeps backlog + 1): later handshakes are dropped, not refused.
        for (var i = 0; i < 2; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            filler.Connect(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
            _accepted.Add(filler);
        }
    }

    /// <summary>The address, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Endpoint { get; }

    /// <summary>How many connections it accepted.</summary>
    public int Accepted
    {
        get
        {
            lock (_accepted)
                return _accepted.Count;
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_accepted)
                    _accepted.Add(socket);
                _ = DrainAsync(socket);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Reads and drops what arrives, so the client's writes never block on a full buffer: only the answers are missing.
    private async Task DrainAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_accepted)
            foreach (var socket in _accepted)
                socket.Dispose();
        _stop.Dispose();
    }
}
