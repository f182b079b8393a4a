using System.Text.RegularExpressions;
using Flame.EndToEnd.Tests.Support;

namespace Flame.EndToEnd.Tests;

/// <summary>flmping, the real program, against the one-command cluster.</summary>
public sealed partial class FlmpingTests(EmbeddedClusterFixture fixture) : IClassFixture<EmbeddedClusterFixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Flmping_RunsItsTasks_OnTheDefaultCluster()
    {
        using var flmping = ChildProcess.StartProgram("flmping", Programs.Flmping, ["-e", fixture.Cluster.Endpoint, "-t", "50"]);

        var exitCode = await flmping.WaitForExitAsync(RunTimeout, "flmping to run 50 tasks");

        Assert.True(exitCode == 0, $"flmping should exit with 0, exited with {exitCode}{flmping.Tail()}{fixture.Cluster.Tails()}");
        Assert.Empty(flmping.StandardError);
        var last = flmping.StandardOutput.LastOrDefault(l => l.Length > 0) ?? "";
        Assert.Matches(FinalLine(), last);
    }

    [GeneratedRegex(@"^Total:\s+50\s+Succeed:\s+50\s+Failed:\s+0\s+Pending:\s+0\s+Running:\s+0\s*$")]
    private static partial Regex FinalLine();
}

/// <summary>flmping's failures: one line on stderr, an exit code, never a stack trace.</summary>
public sealed class FlmpingErrorTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Flmping_WithZeroTasks_ExitsWithUsageError()
    {
        using var flmping = ChildProcess.StartProgram("flmping", Programs.Flmping, ["-e", $"http://127.0.0.1:{FreePorts.Next()}", "-t", "0"]);

        var exitCode = await flmping.WaitForExitAsync(RunTimeout, "flmping to refuse -t 0");

        Assert.True(exitCode == 2, $"expected exit code 2, got {exitCode}{flmping.Tail()}");
        var error = Assert.Single(flmping.StandardError);
        Assert.Equal("flmping: --tasks must be at least 1, not 0", error);
    }

    [Fact]
    public async Task Flmping_AgainstAClosedPort_ExitsWithOneLine()
    {
        // Nothing listens there: FreePorts hands out ports that were free a moment ago and never hands them out again.
        using var flmping = ChildProcess.StartProgram("flmping", Programs.Flmping, ["-e", $"http://127.0.0.1:{FreePorts.Next()}", "-t", "5"]);

        var exitCode = await flmping.WaitForExitAsync(RunTimeout, "flmping to give up on a closed port");

        Assert.True(exitCode == 1, $"expected exit code 1, got {exitCode}{flmping.Tail()}");
        var error = Assert.Single(flmping.StandardError);
        Assert.StartsWith("flmping: cannot reach the Flame endpoint", error);
        Assert.DoesNotContain(flmping.Output, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }
}
