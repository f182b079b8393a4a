using Flame.Cli.Control;
using Flame.Testing;

namespace Flame.Cli.Tests;

/// <summary><c>flmctl watch -s ID</c> against a real session manager (in-process, real gRPC).</summary>
[Collection(GatewayCollection.Name)]
public sealed class WatchTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Watch_FollowsASessionInPlainLines_AndEndsWhenTheSessionIsClosed()
    {
        var application = "watch-" + Guid.NewGuid().ToString("N")[..8];
        await gateway.Client.RegisterApplicationAsync(application, new ApplicationSpec { Command = "/bin/true" });
        // No executor manager here: the tasks stay pending until the close cancels them.
        var session = await gateway.Client.CreateSessionAsync(null, new SessionSpec { Application = application });
        await gateway.Client.CreateTaskAsync(session.Id, null);
        await gateway.Client.CreateTaskAsync(session.Id, null);

        var buffer = new StringWriter();
        var stdout = TextWriter.Synchronized(buffer);
        string Seen()
        {
            lock (stdout)
                return buffer.ToString();
        }
        var watch = Flmctl.RunAsync(["watch", "-s", session.Id, "--endpoint", gateway.Endpoint], stdout, new StringWriter(), color: false);
        await Wait.UntilAsync(() => Seen().Contains("0/2  succeeded 0  failed 0  running 0  pending 2", StringComparison.Ordinal),
            "flmctl watch to show the two pending tasks", seen: Seen);
        Assert.False(watch.IsCompleted, "watch should follow an open session, not end:\n" + Seen());

        await gateway.Client.CloseSessionAsync(session.Id);
        var code = await Wait.For(watch, "flmctl watch to end once the session is closed");

        var lines = Seen().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(0, code);
        Assert.Equal($"session {session.Id} is closed: 0 succeeded, 0 failed, 2 cancelled", lines[^1]);
        Assert.Contains(lines, l => l.StartsWith("[##############################] 100%  2/2", StringComparison.Ordinal));
        Assert.DoesNotContain('\r', Seen());
    }

    [Fact]
    public async Task Watch_OfASessionThatDoesNotExist_PrintsOneLineAndFails()
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Flmctl.RunAsync(["watch", "-s", "no-such-session", "--endpoint", gateway.Endpoint], stdout, stderr, color: false);
        Assert.Equal(1, code);
        Assert.Equal("", stdout.ToString());
        Assert.StartsWith("flmctl: ", stderr.ToString());
        Assert.DoesNotContain('\n', stderr.ToString().TrimEnd('\n'));
    }
}
