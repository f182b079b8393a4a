using System.Net;
using System.Net.Sockets;

namespace Flame.Client.Tests;

/// <summary>
/// A gateway slow to take connections: a real loopback socket that listens but whose accept queue is full, so the
/// kernel drops new handshakes (neither completed nor refused) and a client's connect waits until it times out.
/// </summary>
internal sealed class SilentGateway : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly List<Socket> _fillers = [];

    public SilentGateway()
    {
        _listener = new TcpListener(IPAddress.Loopback, FreePorts.Next());
        _listener.Start(1);
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Endpoint = $"http://127.0.0.1:{port}";
        // Connections of its own, never accepted, fill the queue (Linux keeps backlog + 1).
        for (var i = 0; i < 2; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            filler.Connect(IPAddress.Loopback, port);
            _fillers.Add(filler);
        }
    }

    /// <summary>The address, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Endpoint { get; }

    public ValueTask DisposeAsync()
    {
        _listener.Stop();
        foreach (var socket in _fillers)
            socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
