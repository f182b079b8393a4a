using System.Diagnostics;
using System.Globalization;

namespace Flame.Cli;

/// <summary>
/// Progress where people wait: on a terminal one bar redrawn in place; anywhere else (a pipe, a file, CI) a plain line
/// whenever the count of finished tasks changes, at most one a second, and always the last.
/// </summary>
/// <param name="writer">Where it goes.</param>
/// <param name="terminal">Whether <paramref name="writer"/> is a terminal: redraw in place (a carriage return) instead of new lines.</param>
public sealed class Progress(TextWriter writer, bool terminal)
{
    private const int BarWidth = 30;
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(1);

    private long _lastDone = -1;
    private long _lastLine;
    private bool _drawn;

    /// <summary>
    /// Shows <paramref name="done"/> of <paramref name="total"/>; <paramref name="detail"/> follows the bar (counts by
    /// state). <paramref name="final"/>: the last update, always written and ended with a new line.
    /// </summary>
    public void Update(long done, long total, string detail, bool final = false)
    {
        var line = Line(done, total, detail);
        if (terminal)
        {
            writer.Write("\r" + line + "\u001b[K");
            _drawn = true;
            if (final)
                writer.WriteLine();
            writer.Flush();
            return;
        }
        var now = Stopwatch.GetTimestamp();
        if (!final && (done == _lastDone || (_lastLine != 0 && Stopwatch.GetElapsedTime(_lastLine, now) < PlainEvery)))
            return;
        (_lastDone, _lastLine) = (done, now);
        writer.WriteLine(line);
        writer.Flush();
    }

    /// <summary>Ends a bar left on its line (an error follows on a line of its own).</summary>
    public void Break()
    {
        if (terminal && _drawn)
            writer.WriteLine();
        _drawn = false;
    }

    /// <summary><c>[##########..........]  50%  5/10  detail</c>; on a terminal the same with a solid bar.</summary>
    public string Line(long done, long total, string detail)
    {
        var fraction = total <= 0 ? 0 : Math.Clamp((double)done / total, 0, 1);
        var filled = (int)Math.Round(fraction * BarWidth);
        var (full, empty) = terminal ? ('█', '░') : ('#', '.');
        var bar = new string(full, filled) + new string(empty, BarWidth - filled);
        return string.Create(CultureInfo.InvariantCulture, $"[{bar}] {fraction * 100,3:0}%  {done}/{total}{(detail.Length == 0 ? "" : "  " + detail)}");
    }

    /// <summary>A session's counts for the line: <c>succeeded 5  failed 0  running 2  pending 3</c>.</summary>
    public static string Counts(SessionStatus s) =>
        $"succeeded {s.Succeed}  failed {s.Failed}{(s.Cancelled > 0 ? $"  cancelled {s.Cancelled}" : "")}  running {s.Running}  pending {s.Pending}";
}
