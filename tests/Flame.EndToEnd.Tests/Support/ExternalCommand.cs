using System.ComponentModel;
using System.Diagnostics;
using System.Reflection;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>The outcome of an <see cref="ExternalCommand"/>: its exit code and its output, line by line.</summary>
public sealed record CommandResult(string Description, int ExitCode, IReadOnlyList<string> StandardOutput, IReadOnlyList<string> StandardError)
{
    /// <summary>The command and both streams, for failure messages.</summary>
    public override string ToString() =>
        $"\n--- {Description} exited with {ExitCode}\n--- stdout:\n  {string.Join("\n  ", StandardOutput)}\n--- stderr:\n  {string.Join("\n  ", StandardError)}";
}

/// <summary>
/// A program that is not ours (bash, docker-compose), run to its end with a deadline; on the deadline it is killed
/// with every process it started and the test fails with its output so far.
/// </summary>
public static class ExternalCommand
{
    /// <summary>The repository this test assembly was built from.</summary>
    public static string RepositoryRoot => Metadata("repository-root");

    /// <summary>The build configuration of this test assembly (Debug or Release).</summary>
    public static string Configuration => Metadata("configuration");

    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="arguments"/> from the repository root. A program that is
    /// not installed fails the test with <paramref name="missingHint"/>.
    /// </summary>
    public static async Task<CommandResult> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, string missingHint,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        var description = $"{fileName} {string.Join(' ', start.ArgumentList)}";

        using var process = new Process { StartInfo = start };
        var stdout = new List<string>();
        var stderr = new List<string>();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"'{fileName}' could not be started ({ex.Message}): {missingHint}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        timeout = Wait.Scaled(timeout);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            // Also waits for the end of the redirected output.
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            // Bounded: a daemon it started (outside its tree) may hold the output pipes open for ever.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                // Its output stays open; what was read so far goes into the failure.
            }
            Assert.Fail($"expected {description} to finish within {timeout.TotalSeconds:0}s; it was killed"
                + new CommandResult(description, -1, Snapshot(stdout), Snapshot(stderr)));
        }
        return new CommandResult(description, process.ExitCode, Snapshot(stdout), Snapshot(stderr));
    }

    private static void Append(List<string> lines, string? line)
    {
        if (line is null)
            return;
        lock (lines)
            lines.Add(line);
    }

    private static List<string> Snapshot(List<string> lines)
    {
        lock (lines)
            return [.. lines];
    }

    private static string Metadata(string key) =>
        typeof(ExternalCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"the assembly metadata {key} has no value");
}
