namespace Flame.Cli.Tests;

/// <summary>The progress of flmping, pi-client and flmctl watch: a bar on a terminal, plain lines elsewhere.</summary>
public sealed class ProgressTests
{
    [Fact]
    public void Progress_WritesPlainLines_WhenNotATerminal_OnlyWhenTheCountMoves_AndAlwaysTheLast()
    {
        var output = new StringWriter();
        var progress = new Progress(output, terminal: false);

        progress.Update(0, 10, "running 0");
        progress.Update(0, 10, "running 0"); // nothing moved: no line
        progress.Update(10, 10, "succeeded 10", final: true);

        var lines = output.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(["[..............................]   0%  0/10  running 0", "[##############################] 100%  10/10  succeeded 10"], lines);
        Assert.DoesNotContain('\r', output.ToString());
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void Progress_RedrawsOneLineInPlace_OnATerminal()
    {
        var output = new StringWriter();
        var progress = new Progress(output, terminal: true);

        progress.Update(1, 4, "");
        progress.Update(2, 4, "");
        progress.Update(4, 4, "", final: true);

        var text = output.ToString();
        Assert.Equal(3, text.Count(c => c == '\r'));
        Assert.Equal(1, text.Count(c => c == '\n'));
        Assert.Contains("███████████████░░░░░░░░░░░░░░░]  50%  2/4", text);
    }
}
