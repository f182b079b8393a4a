using System.Globalization;
using System.Text;
using Flame.Service;

namespace Flame.TestService;

/// <summary>
/// A service whose behaviour the test chooses through each task's input, a UTF-8 command:
/// <list type="table">
/// <item><term><c>echo:TEXT</c></term><description>returns TEXT.</description></item>
/// <item><term><c>sleep:MS</c></term><description>sleeps MS milliseconds (cancellable), then returns <c>slept</c>.</description></item>
/// <item><term><c>slowecho:MS:TEXT</c></term><description>sleeps MS milliseconds, then returns TEXT.</description></item>
/// <item><term><c>fail:MESSAGE</c></term><description>fails the task with return code 1 and exactly MESSAGE (a <see cref="FlameTaskException"/>).</description></item>
/// <item><term><c>throw:MESSAGE</c></term><description>throws an <see cref="InvalidOperationException"/>: return code 1, message <c>InvalidOperationException: MESSAGE</c>.</description></item>
/// <item><term><c>crash</c></term><description>exits the process at once with code 42, in the middle of the task.</description></item>
/// <item><term><c>hang</c></term><description>never returns, and ignores cancellation.</description></item>
/// <item><term><c>common</c></term><description>returns the common data received by the last OnSessionEnter (empty if none).</description></item>
/// <item><term><c>pid</c></term><description>returns the process id.</description></item>
/// <item><term><c>who:MS</c></term><description>sleeps MS milliseconds (cancellable), then returns who ran it:
/// <c>executor ID pid PID in DIRECTORY</c> (the executor's directory, under its node's work directory).</description></item>
/// <item><term><c>count</c></term><description>returns how many tasks this process has received, this one included.</description></item>
/// </list>
/// Environment: <c>FLAME_TEST_SERVICE_FAIL_ENTER=1</c> fails every OnSessionEnter (return code 3);
/// <c>FLAME_TEST_SERVICE_ENTER_ONCE=1</c> fails every OnSessionEnter of a process after its first (return code 4);
/// <c>FLAME_TEST_SERVICE_ENTER_DELAY_MS</c> delays it; <c>FLAME_TEST_SERVICE_LOG</c> names a file to which one line
/// is appended per call: <c>enter SESSION COMMON_DATA_LENGTH</c>, <c>invoke TASK</c>, <c>leave</c>.
/// </summary>
internal sealed class TestService : FlameService
{
    public const int CrashExitCode = 42;

    private readonly string? _logPath = Environment.GetEnvironmentVariable("FLAME_TEST_SERVICE_LOG");
    private readonly bool _failEnter = Environment.GetEnvironmentVariable("FLAME_TEST_SERVICE_FAIL_ENTER") == "1";
    private readonly bool _enterOnce = Environment.GetEnvironmentVariable("FLAME_TEST_SERVICE_ENTER_ONCE") == "1";
    private int _enters;
    private readonly int _enterDelayMs = int.TryParse(Environment.GetEnvironmentVariable("FLAME_TEST_SERVICE_ENTER_DELAY_MS"),
        NumberStyles.None, CultureInfo.InvariantCulture, out var delay) ? delay : 0;
    private readonly Lock _logLock = new();
    private byte[]? _commonData;
    private int _tasks;

    public override async Task OnSessionEnterAsync(SessionContext context, CancellationToken cancellationToken)
    {
        Log($"enter {context.SessionId} {context.CommonData?.Length ?? 0}");
        if (_enterDelayMs > 0)
            await Task.Delay(_enterDelayMs, cancellationToken);
        if (_failEnter)
            throw new FlameTaskException("OnSessionEnter failed on purpose (FLAME_TEST_SERVICE_FAIL_ENTER=1)", 3);
        if (Interlocked.Increment(ref _enters) > 1 && _enterOnce)
            throw new FlameTaskException("this process enters one session only (FLAME_TEST_SERVICE_ENTER_ONCE=1)", 4);
        _commonData = context.CommonData;
    }

    public override async Task<byte[]?> OnTaskInvokeAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var count = Interlocked.Increment(ref _tasks);
        Log($"invoke {context.TaskId}");

        var command = context.Input is null ? "" : Encoding.UTF8.GetString(context.Input);
        var colon = command.IndexOf(':');
        var (verb, argument) = colon < 0 ? (command, "") : (command[..colon], command[(colon + 1)..]);
        switch (verb)
        {
            case "echo":
                return Encoding.UTF8.GetBytes(argument);
            case "sleep":
                await Task.Delay(int.Parse(argument, NumberStyles.None, CultureInfo.InvariantCulture), cancellationToken);
                return "slept"u8.ToArray();
            case "slowecho":
            {
                var split = argument.IndexOf(':', StringComparison.Ordinal);
                await Task.Delay(int.Parse(argument[..split], NumberStyles.None, CultureInfo.InvariantCulture), cancellationToken);
                return Encoding.UTF8.GetBytes(argument[(split + 1)..]);
            }
            case "fail":
                throw new FlameTaskException(argument, 1);
            case "throw":
                throw new InvalidOperationException(argument);
            case "crash":
                Environment.Exit(CrashExitCode);
                return null;
            case "hang":
                await Task.Delay(Timeout.Infinite, CancellationToken.None);
                return null;
            case "common":
                return _commonData ?? [];
            case "pid":
                return Encoding.UTF8.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            case "who":
                await Task.Delay(int.Parse(argument, NumberStyles.None, CultureInfo.InvariantCulture), cancellationToken);
                return Encoding.UTF8.GetBytes(
                    $"executor {Environment.GetEnvironmentVariable("FLAME_EXECUTOR_ID")} pid {Environment.ProcessId} in {Environment.CurrentDirectory}");
            case "count":
                return Encoding.UTF8.GetBytes(count.ToString(CultureInfo.InvariantCulture));
            default:
                throw new FlameTaskException($"unknown command '{command}'", 1);
        }
    }

    public override Task OnSessionLeaveAsync(CancellationToken cancellationToken)
    {
        Log("leave");
        _commonData = null;
        return Task.CompletedTask;
    }

    private void Log(string line)
    {
        if (_logPath is null)
            return;
        lock (_logLock)
            File.AppendAllText(_logPath, line + "\n");
    }
}
