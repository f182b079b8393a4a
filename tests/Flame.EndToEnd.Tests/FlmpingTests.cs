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

    [Fact]
    public async Task Flmping_WithFlamesFlags_SendsFlamesJsonPing_AndOpensTheSessionWithTheCommonDataPriorityAndResreq()
    {
        using var flmping = ChildProcess.StartProgram("flmping", Programs.Flmping,
            ["-e", fixture.Cluster.Endpoint, "--task-num", "3", "-c", "hello", "-d", "100", "-m", "1MB", "-P", "2", "-r", "cpu=1,mem=64m"]);

        var exitCode = await flmping.WaitForExitAsync(RunTimeout, "flmping to run 3 JSON pings");

        Assert.True(exitCode == 0, $"flmping should exit with 0, exited with {exitCode}{flmping.Tail()}{fixture.Cluster.Tails()}");
        Assert.Empty(flmping.StandardError);
        var output = flmping.StandardOutput;
        var created = CreatedLine().Match(output[0]);
        Assert.True(created.Success, $"not Flame's first line: {output[0]}");
        var id = created.Groups[1].Value;
        // Flame's table: one row per task with the service's PingResponse message; each slept at least 100 ms and held 1 MiB.
        var rows = output.Select(l => ResultRow().Match(l)).Where(m => m.Success && m.Groups[1].Value == id).ToList();
        Assert.True(rows.Count == 3, $"expected 3 result rows of session {id}:{flmping.Tail()}");
        Assert.All(rows, r => Assert.InRange(long.Parse(r.Groups[2].Value), 100, 60_000));
        Assert.Contains(output, l => CompletedLine().IsMatch(l));
        var session = await fixture.Cluster.Client.GetSessionAsync(id);
        Assert.Equal(2u, session.Spec.Priority);
        Assert.Equal(new ResourceRequirement { Cpu = 1, Memory = 64UL << 20 }, session.Spec.ResReq);
        Assert.Equal("""{"value":"hello"}""", System.Text.Encoding.UTF8.GetString(session.Spec.CommonData ?? []));
    }

    [GeneratedRegex(@"^Total:\s+50\s+Succeed:\s+50\s+Failed:\s+0\s+Pending:\s+0\s+Running:\s+0\s*$")]
    private static partial Regex FinalLine();

    [GeneratedRegex(@"^Session <(.+)> was created in <[0-9]+ ms>, start to run <3> tasks in the session:$")]
    private static partial Regex CreatedLine();

    [GeneratedRegex(@"^(\S+)\s+[0-9]+\s+Succeed\s+Completed on <.+> in <([0-9]+)> milliseconds with <1048576> memory$")]
    private static partial Regex ResultRow();

    [GeneratedRegex(@"^<3> tasks was completed in <[0-9]+ ms>\.$")]
    private static partial Regex CompletedLine();
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

    [Theory]
    [InlineData("-r", "cpu=1,gpu", "flmping: --resreq: 'gpu' in 'cpu=1,gpu' is not key=value")]
    [InlineData("-m", "lots", "flmping: --memory: 'lots' is not a size like 10MB, 512k or 1048576")]
    [InlineData("-d", "1.5", "flmping: --duration: '1.5' is not a whole number of milliseconds")]
    public async Task Flmping_WithABadFlameFlag_ExitsWithUsageError(string flag, string value, string message)
    {
        using var flmping = ChildProcess.StartProgram("flmping", Programs.Flmping, ["-e", $"http://127.0.0.1:{FreePorts.Next()}", flag, value]);

        var exitCode = await flmping.WaitForExitAsync(RunTimeout, $"flmping to refuse {flag} {value}");

        Assert.True(exitCode == 2, $"expected exit code 2, got {exitCode}{flmping.Tail()}");
        Assert.Equal(message, Assert.Single(flmping.StandardError));
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
