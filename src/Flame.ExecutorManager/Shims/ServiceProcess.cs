using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Flame.ExecutorManager.Shims;

/// <summary>
/// A running service process whose stdout and stderr are copied, as they come, to the service log, so that a
/// chatty service never blocks on a full pipe. Disposing kills it and everything it started.
/// </summary>
internal sealed partial class ServiceProcess : IDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly FileStream _log;
    private readonly Lock _logLock = new();
    private readonly Task _pumps;
    private int _disposed;

    private ServiceProcess(Process process, FileStream log)
    {
        _process = process;
        _log = log;
        _pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream),
            PumpAsync(process.StandardError.BaseStream));
    }

    /// <summary>The process id.</summary>
    public int Id { get; private init; }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>The exit code; valid once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="info"/> with its output appended to <paramref name="logPath"/>.</summary>
    /// <exception cref="ServiceStartException">The process cannot be started (no such file, not executable, …).</exception>
    public static ServiceProcess Start(ProcessStartInfo info, string logPath)
    {
        // Private: a service's output may hold what its tasks compute (0600; the mode applies when the file is created).
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var log = new FileStream(logPath, options);
        try
        {
            var header = Encoding.UTF8.GetBytes(
                $"--- {DateTimeOffset.UtcNow:O} starting {info.FileName} {string.Join(' ', info.ArgumentList)}\n");
            log.Write(header);
            var process = new Process { StartInfo = info };
            try
            {
                process.Start();
            }
            catch (Win32Exception ex)
            {
                process.Dispose();
                throw new ServiceStartException($"cannot start '{info.FileName}' in '{info.WorkingDirectory}': {ex.Message}", ex);
            }
            return new ServiceProcess(process, log) { Id = process.Id };
        }
        catch
        {
            log.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the process has exited.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true if it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (HasExited)
            return true;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return HasExited;
        }
    }

    /// <summary>
    /// Asks the service to stop (SIGTERM), gives it <paramref name="grace"/>, then kills it and its children.
    /// Returns true if it exited within the grace.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (HasExited)
        {
            KillTree();
            return true;
        }
        var exited = false;
        if (grace > TimeSpan.Zero && kill(Id, SigTerm) == 0)
            exited = await WaitForExitAsync(grace).ConfigureAwait(false);
        // Even a service that exited may have left children behind that share its output pipes.
        KillTree();
        if (!exited)
            await WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        return exited;
    }

    /// <summary>Kills the process and its children at once.</summary>
    public void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (Win32Exception)
        {
            // Exited between the check and the kill, or not ours to kill any more.
        }
    }

    /// <summary>
    /// The last <paramref name="lines"/> lines of the service log, after letting the output pumps drain for at most
    /// <paramref name="drain"/> (children that keep the pipes open must not hold up an error report).
    /// </summary>
    public async Task<string> ReadLogTailAsync(int lines, TimeSpan drain)
    {
        await Task.WhenAny(_pumps, Task.Delay(drain)).ConfigureAwait(false);
        return ReadTail(_log.Name, lines);
    }

    /// <summary>The last <paramref name="lines"/> lines of a text file, reading at most its last 8 KiB.</summary>
    internal static string ReadTail(string path, int lines)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = (int)Math.Min(file.Length, 8192);
            file.Seek(-length, SeekOrigin.End);
            var buffer = new byte[length];
            file.ReadExactly(buffer);
            var text = Encoding.UTF8.GetString(buffer).TrimEnd('\n', '\r');
            var all = text.Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        KillTree();
        _process.Dispose();
        // The pumps end when the pipes close; the log is closed by the last of them (or here, if they are stuck
        // behind a child that still holds a pipe, a write after this is dropped).
        _ = _pumps.ContinueWith(static (_, state) => ((FileStream)state!).Dispose(), _log, TaskScheduler.Default);
    }

    private async Task PumpAsync(Stream output)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            while (true)
            {
                var read = await output.ReadAsync(buffer).ConfigureAwait(false);
                if (read == 0)
                    return;
                try
                {
                    lock (_logLock)
                    {
                        _log.Write(buffer, 0, read);
                    }
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException)
                {
                    // The log is full or gone: drop the output, but keep reading so that the service never blocks.
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The pipe broke: the process is gone.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
