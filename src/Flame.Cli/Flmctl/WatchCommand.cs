using System.CommandLine;
using Flame.Client;

namespace Flame.Cli;

/// <summary><c>flmctl watch -s ID</c>: follows a session live until it is closed and its last task has ended.</summary>
internal static class WatchCommand
{
    /// <summary>How often the session's counters are read: for a person watching, not for a program.</summary>
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);

    public const string Name = "watch";

    /// <summary>
    /// The command. <paramref name="terminal"/>: stdout is a terminal (a bar redrawn in place; otherwise plain lines).
    /// Exits 0 when the session is done with no failed task, 1 when some failed.
    /// </summary>
    public static Command Command(TextWriter stdout, bool terminal, Func<Command, Func<ParseResult, IFlameClient, CancellationToken, Task<int>>, Command> bind)
    {
        var session = new Option<string>("--session", "-s") { Description = "The session id", Required = true, HelpName = "ID" };
        var command = new Command(Name, "Follows a session live (a progress bar on a terminal, plain lines otherwise) until it is closed and its tasks have ended") { session };
        return bind(command, async (parse, client, ct) =>
        {
            var id = parse.GetValue(session)!;
            var progress = new Progress(stdout, terminal);
            string? lastEvent = null;
            while (true)
            {
                var info = await client.GetSessionAsync(id, ct);
                var s = info.Status;
                var total = (long)s.Pending + s.Running + s.Succeed + s.Failed + s.Cancelled;
                var done = total - s.Pending - s.Running;
                var over = s.State == SessionState.Closed && s.Pending == 0 && s.Running == 0;
                if (s.Events.Count > 0 && s.Events[^1].Message is { } message && message != lastEvent)
                {
                    // The scheduler's decisions, one line each, above the bar.
                    progress.Break();
                    stdout.WriteLine($"{info.Id}: {message}");
                    lastEvent = message;
                }
                progress.Update(done, total, Progress.Counts(s), final: over);
                if (over)
                {
                    stdout.WriteLine($"session {info.Id} is closed: {s.Succeed} succeeded, {s.Failed} failed, {s.Cancelled} cancelled");
                    return s.Failed == 0 ? 0 : CliErrors.Failed;
                }
                await Task.Delay(Every, ct);
            }
        });
    }
}
