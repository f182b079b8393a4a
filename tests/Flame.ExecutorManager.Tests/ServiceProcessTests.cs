using System.Diagnostics;
using Flame.ExecutorManager.Shims;

namespace Flame.ExecutorManager.Tests;

/// <summary>The Host shim's handling of real (shell) processes: output, signals, start failures.</summary>
public sealed class ServiceProcessTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("flame-em-proc-");

    public void Dispose() => _work.Delete(recursive: true);

    [Fact]
    public async Task Output_GoesToTheLog_WithoutEverBlockingTheService()
    {
        // Far more than a pipe holds (64 KiB): a service whose output is not read would hang here.
        using var process = Start("head -c 300000 /dev/zero | tr '\\0' a; echo; echo done >&2");

        Assert.True(await process.WaitForExitAsync(Wait.Scaled(TimeSpan.FromSeconds(10))), "the shell should have exited after writing 300000 bytes");
        var tail = await process.ReadLogTailAsync(lines: 1, drain: TimeSpan.FromSeconds(5));

        Assert.Equal("done", tail);
        Assert.True(new FileInfo(LogPath).Length > 300000, $"the log holds {new FileInfo(LogPath).Length} bytes");
    }

    [Fact, System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheLog_IsReadableAndWritableByItsOwnerOnly()
    {
        using var process = Start("echo private");
        await process.WaitForExitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LogPath));
    }

    [Fact]
    public async Task Output_IsAppended_AcrossServices()
    {
        using (var first = Start("echo first"))
            await first.WaitForExitAsync(Wait.Scaled(TimeSpan.FromSeconds(10)));
        using var second = Start("echo second");
        await second.WaitForExitAsync(Wait.Scaled(TimeSpan.FromSeconds(10)));

        var lines = (await second.ReadLogTailAsync(lines: 10, drain: TimeSpan.FromSeconds(5))).Split('\n');

        Assert.Contains("first", lines);
        Assert.Equal("second", lines[^1]);
    }

    [Fact]
    public async Task StopAsync_SendsSigterm_AndWaitsForTheServiceToExit()
    {
        using var process = Start("trap 'exit 7' TERM; echo ready; while true; do sleep 0.05; done");
        await WaitForLogAsync("ready");

        Assert.True(await process.StopAsync(TimeSpan.FromSeconds(5)), "the service should have exited on SIGTERM");
        Assert.Equal(7, process.ExitCode);
    }

    [Fact]
    public async Task StopAsync_KillsAServiceThatIgnoresSigterm_AfterTheGrace()
    {
        using var process = Start("trap '' TERM; echo ready; while true; do sleep 0.05; done");
        await WaitForLogAsync("ready");
        var started = Stopwatch.GetTimestamp();

        Assert.False(await process.StopAsync(TimeSpan.FromMilliseconds(300)), "the service ignored SIGTERM and should have been killed");
        Assert.True(process.HasExited);
        Assert.InRange(Stopwatch.GetElapsedTime(started), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Dispose_KillsTheServiceAndItsChildren()
    {
        var pidFile = Path.Combine(_work.FullName, "child.pid");
        var process = Start($"sleep 60 & echo $! > {pidFile}; echo ready; wait");
        await WaitForLogAsync("ready");
        var child = int.Parse(File.ReadAllText(pidFile).Trim());

        process.Dispose();

        var deadline = Stopwatch.GetTimestamp();
        while (Directory.Exists($"/proc/{child}") && !IsZombie(child) && Stopwatch.GetElapsedTime(deadline) < Wait.Scaled(TimeSpan.FromSeconds(5)))
            await Task.Delay(20);
        Assert.True(!Directory.Exists($"/proc/{child}") || IsZombie(child), $"the child process {child} should have been killed");
    }

    [Fact]
    public async Task HostShim_ReportsAServiceThatExitsBeforeListening_WithItsCodeAndLog()
    {
        using var shim = new HostShim(ExecutorDirectory.For(_work.FullName, "e1"));

        var error = await Assert.ThrowsAsync<ServiceStartException>(() =>
            shim.StartAsync(Shell("echo 'cannot open database' >&2; exit 3", ExecutorDirectory.For(_work.FullName, "e1")), TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.StartsWith($"the process exited with code 3 before listening on {_work.FullName}/executors/e1/instance.sock; last lines of service.log:\n", error.Message);
        Assert.EndsWith("cannot open database", error.Message);
    }

    [Fact]
    public async Task HostShim_KillsAServiceThatDoesNotListenInTime()
    {
        var directory = ExecutorDirectory.For(_work.FullName, "e2");
        using var shim = new HostShim(directory);

        var error = await Assert.ThrowsAsync<ServiceStartException>(() =>
            shim.StartAsync(Shell("echo starting; sleep 30", directory), TimeSpan.FromMilliseconds(300), CancellationToken.None));

        Assert.StartsWith($"the process did not listen on {directory.SocketPath} within 0.3s; it was killed; last lines of service.log:\n", error.Message);
        Assert.EndsWith("starting", error.Message);
        Assert.True(await shim.WaitForExitAsync(Wait.Scaled(TimeSpan.FromSeconds(5))));
    }

    [Fact]
    public async Task HostShim_ReportsACommandThatDoesNotExist()
    {
        var directory = ExecutorDirectory.For(_work.FullName, "e3");
        using var shim = new HostShim(directory);
        var info = Shell("true", directory);
        info.FileName = "/nonexistent/service";

        var error = await Assert.ThrowsAsync<ServiceStartException>(() => shim.StartAsync(info, TimeSpan.FromSeconds(1), CancellationToken.None));

        Assert.StartsWith("cannot start '/nonexistent/service' in '/': ", error.Message);
    }

    private string LogPath => Path.Combine(_work.FullName, "service.log");

    private ServiceProcess Start(string script)
    {
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _work.FullName };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        return ServiceProcess.Start(info, LogPath);
    }

    private static ProcessStartInfo Shell(string script, ExecutorDirectory directory)
    {
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.Environment["FLAME_INSTANCE_ENDPOINT"] = directory.SocketPath;
        return info;
    }

    private async Task WaitForLogAsync(string text)
    {
        var started = Stopwatch.GetTimestamp();
        var limit = Wait.Scaled(TimeSpan.FromSeconds(10));
        // A whole line: the log's header line quotes the script, which names the text too.
        while (!(File.Exists(LogPath) && File.ReadAllLines(LogPath).Contains(text)))
        {
            if (Stopwatch.GetElapsedTime(started) > limit)
                Assert.Fail($"expected '{text}' in the service log within {limit.TotalSeconds:0.#} s; it holds: {(File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no file)")}");
            await Task.Delay(10);
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
