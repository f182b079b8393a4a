using System.Globalization;
using Flame.EndToEnd.Tests.Support;

namespace Flame.EndToEnd.Tests.FaultMatrix;

/// <summary>Processes the fault tests did not start (services, the silos of the local cluster): signals and states.</summary>
internal static class Processes
{
    /// <summary>Whether <paramref name="pid"/> has exited (gone, or a zombie not yet reaped).</summary>
    public static bool HasExited(int pid)
    {
        try
        {
            // "pid (name) state …": the name may hold spaces and parentheses, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>
    /// Sends SIG<paramref name="signal"/> (<c>STOP</c>, <c>CONT</c>, <c>KILL</c>) to process <paramref name="pid"/>, or
    /// to the process group <paramref name="pid"/> when <paramref name="group"/>. A process that has exited is not an
    /// error: it may have died of the fault a moment before.
    /// </summary>
    public static async Task SignalAsync(string signal, int pid, bool group = false)
    {
        var target = (group ? -pid : pid).ToString(CultureInfo.InvariantCulture);
        var sent = await ExternalCommand.RunAsync("kill", [$"-{signal}", "--", target], TimeSpan.FromSeconds(30), "kill is required");
        Assert.True(sent.ExitCode == 0 || HasExited(pid), $"SIG{signal} should reach {target}{sent}");
    }
}
