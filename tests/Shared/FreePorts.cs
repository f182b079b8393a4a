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
}
