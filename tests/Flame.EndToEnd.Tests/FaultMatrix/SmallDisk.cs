using Flame.EndToEnd.Tests.Support;

namespace Flame.EndToEnd.Tests.FaultMatrix;

/// <summary>
/// A filesystem of a few MiB made by the test (a tmpfs with a size limit, mounted on a temporary folder; root is
/// needed, as in CI), that the test can fill to the last byte and free again. Disposing unmounts it and removes the
/// folder.
/// </summary>
public sealed class SmallDisk : IAsyncDisposable
{
    private const string Filler = ".filler";

    private SmallDisk(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="megabytes"/> MiB on a new temporary folder.</summary>
    public static async Task<SmallDisk> MountAsync(int megabytes)
    {
        var path = Directory.CreateTempSubdirectory("flame-small-disk-").FullName;
        var mount = await ExternalCommand.RunAsync(
            "mount", ["-t", "tmpfs", "-o", $"size={megabytes}m,mode=0755", "tmpfs", path], TimeSpan.FromSeconds(30),
            "mount is required (util-linux)");
        Assert.True(mount.ExitCode == 0, $"a tmpfs of {megabytes} MiB should be mounted on {path} (the tests run as root in CI){mount}");
        return new SmallDisk(path);
    }

    /// <summary>Writes a file that takes every byte left, so that the next write of anyone else fails with ENOSPC.</summary>
    public void Fill()
    {
        var chunk = new byte[64 * 1024];
        using var file = new FileStream(System.IO.Path.Combine(Path, Filler), FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        try
        {
            // tmpfs allocates as it is written; a smaller chunk then takes what a large one left.
            while (true)
                file.Write(chunk, 0, chunk.Length);
        }
        catch (IOException)
        {
        }
        try
        {
            while (true)
                file.Write(chunk, 0, 1);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Deletes what <see cref="Fill"/> wrote: the space comes back.</summary>
    public void Free() => File.Delete(System.IO.Path.Combine(Path, Filler));

    public async ValueTask DisposeAsync()
    {
        // Lazily: a process killed a moment ago may still hold a file on it.
        await ExternalCommand.RunAsync("umount", ["-l", Path], TimeSpan.FromSeconds(30), "umount is required (util-linux)");
        try
        {
            Directory.Delete(Path);
        }
        catch (IOException)
        {
            // Still busy: a temporary folder, empty once unmounted.
        }
    }
}
