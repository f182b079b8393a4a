using System.Runtime.InteropServices;

namespace Flame.ExecutorManager.Shims;

/// <summary>
/// Paths as the kernel follows them: symbolic links and <c>..</c> resolved (realpath(3)), so that a check of a path
/// is a check of the file that would be used.
/// </summary>
internal static partial class RealPath
{
    /// <summary>
    /// The canonical form of absolute path <paramref name="path"/>. The part that does not exist yet is appended to
    /// its longest existing parent, resolved, with <c>.</c> and <c>..</c> taken lexically (nothing there to follow).
    /// </summary>
    public static string Of(string path)
    {
        if (!Path.IsPathFullyQualified(path))
            throw new ArgumentException($"'{path}' is not an absolute path", nameof(path));
        if (Resolve(path) is { } resolved)
            return resolved;
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path));
        if (parent is null)
            return Path.GetFullPath(path);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        return Path.GetFullPath(Path.Join(Of(parent), name));
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or lies under it (both canonical).</summary>
    public static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    private static string? Resolve(string path)
    {
        var resolved = realpath(path, 0);
        if (resolved == 0)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    private static partial void free(nint pointer);
}
