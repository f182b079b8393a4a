using System.Net;
using System.Net.Sockets;

namespace Flame.Testing;

/// <summary>
/// Loopback ports that nothing listens on, never the same one twice in this process. Shared (as a linked source
/// file) by the test projects and the benchmarks that start servers.
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> Given = [];

    /// <summary>A port the OS just gave us, never one handed out before in this process.</summary>
    public static int Next()
    {
        lock (Given)
        {
            while (true)
            {
                using var socket = new TcpListener(IPAddress.Loopback, 0);
                socket.Start();
                var port = ((IPEndPoint)socket.LocalEndpoint).Port;
                socket.Stop();
                if (Given.Add(port))
                    return port;
            }
        }
    }

    /// <summary>
    /// A port whose next port is free too, both never handed out before in this process: for a session manager whose
    /// Backend listens on its frontend's port + 1 by default.
    /// </summary>
    public static int NextPair()
    {
        lock (Given)
        {
            while (true)
            {
                var port = Next();
                if (port >= IPEndPoint.MaxPort || Given.Contains(port + 1))
                    continue;
                try
                {
                    using var next = new TcpListener(IPAddress.Loopback, port + 1);
                    next.Start();
                    next.Stop();
                }
                catch (SocketException)
                {
                    continue;
                }
                Given.Add(port + 1);
                return port;
            }
        }
    }
}
