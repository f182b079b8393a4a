using System.Net;
using System.Net.Sockets;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>Loopback ports that nothing listens on, handed out once per test process.</summary>
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
