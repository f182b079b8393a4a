using System.Security.Cryptography;
using System.Text;

namespace Flame.ExecutorManager.Shims;

/// <summary>
/// The files of one executor: <c>&lt;work-dir&gt;/executors/&lt;executor-id&gt;/</c> holding <c>instance.sock</c>
/// (the service's Unix socket) and <c>service.log</c>, and serving as the service's default working directory.
/// </summary>
internal sealed record ExecutorDirectory(string Root, string SocketPath, string LogPath, bool SocketPathShortened)
{
    /// <summary>
    /// The longest socket path, in bytes: <c>sun_path</c> holds 108 bytes on Linux, one of which is the
    /// terminating NUL.
    /// </summary>
    public const int MaxSocketPathBytes = 107;

    /// <summary>The file name of the service's socket.</summary>
    public const string SocketFileName = "instance.sock";

    /// <summary>The file name of the service's log (its stdout and stderr, appended).</summary>
    public const string LogFileName = "service.log";

    /// <summary>
    /// The paths of executor <paramref name="executorId"/> under <paramref name="workDirectory"/>. When the socket path
    /// would not fit in <see cref="MaxSocketPathBytes"/>, the socket goes to <paramref name="shortSocketDirectory"/>
    /// (default <c>/tmp/flame-sockets</c>) under a name made from a hash of the long path, and
    /// <see cref="SocketPathShortened"/> says so.
    /// </summary>
    public static ExecutorDirectory For(string workDirectory, string executorId, string? shortSocketDirectory = null)
    {
        var root = Path.Combine(workDirectory, "executors", SafeName(executorId));
        var socket = Path.Combine(root, SocketFileName);
        var log = Path.Combine(root, LogFileName);
        if (Encoding.UTF8.GetByteCount(socket) <= MaxSocketPathBytes)
            return new ExecutorDirectory(root, socket, log, SocketPathShortened: false);

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(socket)))[..24];
        var shortSocket = Path.Combine(shortSocketDirectory ?? "/tmp/flame-sockets", hash + ".sock");
        if (Encoding.UTF8.GetByteCount(shortSocket) > MaxSocketPathBytes)
            throw new InvalidOperationException(
                $"the socket path '{shortSocket}' is longer than {MaxSocketPathBytes} bytes, the limit of a Unix socket path");
        return new ExecutorDirectory(root, shortSocket, log, SocketPathShortened: true);
    }

    /// <summary>Creates the directories of the socket and the log, and removes a socket left by an earlier service.</summary>
    public void Prepare()
    {
        PrivateDirectory.Create(Root);
        Directory.CreateDirectory(Path.GetDirectoryName(SocketPath)!);
        File.Delete(SocketPath);
    }

    // Executor ids come from the gateway: keep them from escaping the work directory.
    private static string SafeName(string id)
    {
        if (id.Length > 0 && id != "." && id != ".." && id.AsSpan().IndexOfAny(['/', '\\', '\0']) < 0)
            return id;
        var builder = new StringBuilder(id.Length + 1);
        foreach (var c in id)
            builder.Append(c is '/' or '\\' or '\0' ? '_' : c);
        return builder.Length == 0 || builder.ToString() is "." or ".." ? "_" + builder : builder.ToString();
    }
}

/// <summary>Directories only their owner may enter (0700): executors' files hold task inputs, outputs and logs.</summary>
internal static class PrivateDirectory
{
    /// <summary>The owner's read, write and search bits.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> (and missing parents) 0700; one that exists keeps its mode.</summary>
    public static void Create(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, Mode);
    }
}

/// <summary>Keeps the work directory from growing without bound: the directories of ended executors are pruned.</summary>
internal static class ExecutorDirectories
{
    /// <summary>
    /// Deletes the directories under <c>&lt;work-dir&gt;/executors/</c> of executors not in <paramref name="running"/>,
    /// all but the <paramref name="keep"/> most recently written. A directory that cannot be deleted is left (and
    /// reported through <paramref name="failed"/>); nothing here throws for one.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    public static int Prune(string workDirectory, int keep, IReadOnlyCollection<string> running, Action<string, Exception>? failed = null)
    {
        var root = Path.Combine(workDirectory, "executors");
        DirectoryInfo[] all;
        try
        {
            all = new DirectoryInfo(root).GetDirectories();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failed?.Invoke(root, ex);
            return 0;
        }
        var live = running.Select(id => ExecutorDirectory.For(workDirectory, id).Root).ToHashSet(StringComparer.Ordinal);
        var deleted = 0;
        foreach (var directory in all.Where(d => !live.Contains(d.FullName)).OrderByDescending(d => d.LastWriteTimeUtc).Skip(keep))
        {
            try
            {
                directory.Delete(recursive: true);
                deleted++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failed?.Invoke(directory.FullName, ex);
            }
        }
        return deleted;
    }
}
