using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Flame.EndToEnd.Tests.Support;

/// <summary>
/// A program of the solution run as a real process with the dotnet host. Its output is kept (and copied to a
/// log file) for assertions and for the failure messages of the tests; disposing kills it and every process it
/// started (SIGKILL to the whole tree).
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly List<string> _all = [];
    private readonly StreamWriter? _log;
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private ChildProcess(string name, Process process, string? logPath)
    {
        Name = name;
        _process = process;
        if (logPath is not null)
            _log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    /// <summary>A short name for messages: <c>session-manager</c>, <c>em-a</c>, …</summary>
    public string Name { get; }

    public int Id { get; private set; }

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

    public int ExitCode => _process.ExitCode;

    /// <summary>The lines written to stdout so far.</summary>
    public IReadOnlyList<string> StandardOutput
    {
        get
        {
            lock (_all)
                return [.. _stdout];
        }
    }

    /// <summary>The lines written to stderr so far.</summary>
    public IReadOnlyList<string> StandardError
    {
        get
        {
            lock (_all)
                return [.. _stderr];
        }
    }

    /// <summary>Every line of stdout and stderr so far, in the order they were read.</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_all)
                return [.. _all];
        }
    }

    /// <summary>
    /// Starts <c>dotnet PROGRAM.dll ARGS</c> from the test output folder (or <paramref name="fileName"/> instead of
    /// the dotnet host when given); <paramref name="environment"/> entries with a null value are removed.
    /// </summary>
    public static ChildProcess StartProgram(
        string name, string program, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, string? logPath = null)
    {
        var start = new ProcessStartInfo(Programs.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Programs.PathOf(program));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        if (program is Programs.SessionManager or Programs.ExecutorManager)
        {
            // Their nodes run the test service (and the rest of this folder) and the tests' Python services: the node
            // refuses any other command (Flame:ExecutorManager:AllowedCommands). A caller's entry of the same index wins.
            start.Environment["Flame__ExecutorManager__AllowedCommands__0"] = AppContext.BaseDirectory;
            start.Environment["Flame__ExecutorManager__AllowedCommands__1"] = "/usr/bin/python3";
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(key);
            else
                start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, logPath);
        process.OutputDataReceived += (_, e) => child.Append(e.Data, child._stdout, child._outputClosed);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data, child._stderr, child._errorClosed);
        child._log?.WriteLine($"--- {DateTimeOffset.Now:O} {start.FileName} {string.Join(' ', start.ArgumentList)}");
        process.Start();
        child.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The last <paramref name="lines"/> lines of output, for failure messages.</summary>
    public string Tail(int lines = 30)
    {
        var all = Output;
        var state = HasExited ? $"exited with code {SafeExitCode()}" : "running";
        var tail = all.Skip(Math.Max(0, all.Count - lines));
        return $"\n--- {Name} (pid {Id}, {state}), last {Math.Min(lines, all.Count)} of {all.Count} lines:\n  " + string.Join("\n  ", tail);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the process to exit and its output to be read to the end; returns
    /// its exit code, or fails (after killing it) with the tail of its output.
    /// </summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, string expected)
    {
        timeout = Wait.Scaled(timeout);
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
            // WaitForExitAsync also waits for the end of redirected output; the events confirm it.
            await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"expected {expected} within {timeout.TotalSeconds:0.#}s, but {Name} was still running; it was killed{Tail()}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the process and every process it started, then waits for it to be gone.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exited between the check and the kill.
        }
    }

    /// <summary>SIGTERM: asks the process to stop, as an operator's Ctrl+C or a container stop does.</summary>
    public void Terminate() => Assert.True(kill(Id, SigTerm) == 0, $"could not SIGTERM {Name} (pid {Id})");

    /// <summary>SIGSTOP: the process is frozen (the processes it started are not), as in a long pause of its machine.</summary>
    public void Pause() => Assert.True(kill(Id, SigStop) == 0, $"could not SIGSTOP {Name} (pid {Id})");

    /// <summary>SIGCONT: a paused process runs again.</summary>
    public void Resume() => Assert.True(kill(Id, SigCont) == 0, $"could not SIGCONT {Name} (pid {Id})");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Kill();
        _process.Dispose();
        lock (_all)
            _log?.Dispose();
    }

    private int? SafeExitCode()
    {
        try
        {
            return _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private const int SigTerm = 15;
    private const int SigCont = 18;
    private const int SigStop = 19;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private void Append(string? line, List<string> stream, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (_all)
        {
            stream.Add(line);
            _all.Add(line);
            if (_disposed == 0)
                _log?.WriteLine(line);
        }
    }
}
