using System.Diagnostics;

namespace Flame.Testing;

/// <summary>
/// Runs a server executable of ours (<c>flame-session-manager.dll</c>, <c>flame-executor-manager.dll</c>) as a real process that is expected to exit by itself: <c>--help</c>, <c>--version</c>, or a refusal.
/// </summary>
public static class ServerProcess
{
    /// <summary>How long the process may take to exit. Generous: the machine is shared and the runtime starts cold.</summary>
    public static TimeSpan Timeout => Wait.Scaled(TimeSpan.FromSeconds(60));

    /// <summary>Runs <paramref name="dll"/> (a full path, or a file name next to the tests) with <paramref name="args"/> until it exits.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunToExitAsync(string dll, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException(
                $"{dll} {string.Join(' ', args)} did not exit within {Timeout.TotalSeconds:0}s; stderr so far: {(stderr.IsCompleted ? await stderr : "")}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
