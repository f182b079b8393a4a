using System.Net;
using System.Net.Sockets;

namespace Flame.Benchmarks;

/// <summary>Loopback ports that nothing listens on, never the same one twice in this process.</summary>
internal static class FreePorts
{
    private static readonly HashSet<int> Given = [];

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
