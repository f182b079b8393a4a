using System.Text;
using Flame.ExecutorManager.Shims;

namespace Flame.ExecutorManager.Tests;

public sealed class ExecutorDirectoryTests
{
    [Fact]
    public void For_PutsTheSocketAndTheLog_InTheExecutorsDirectory()
    {
        var directory = ExecutorDirectory.For("/tmp/flame", "e-1");

        Assert.Equal("/tmp/flame/executors/e-1", directory.Root);
        Assert.Equal("/tmp/flame/executors/e-1/instance.sock", directory.SocketPath);
        Assert.Equal("/tmp/flame/executors/e-1/service.log", directory.LogPath);
        Assert.False(directory.SocketPathShortened);
    }

    [Fact, System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Prepare_CreatesTheExecutorsDirectory_ForItsOwnerOnly()
    {
        var work = Directory.CreateTempSubdirectory("flame-private-").FullName;
        try
        {
            // The executor manager makes <work>/executors 0700 at start (EnsureWorkDirectory); each executor's is made here.
            Directory.CreateDirectory(Path.Combine(work, "executors"));
            var directory = ExecutorDirectory.For(work, "e-1");

            directory.Prepare();

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory.Root));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void For_KeepsASocketPathOfExactly107Bytes()
    {
        var prefix = "/tmp/";
        var suffix = "/executors/e/instance.sock";
        var work = prefix + new string('w', 107 - prefix.Length - suffix.Length);

        var directory = ExecutorDirectory.For(work, "e");

        Assert.Equal(107, Encoding.UTF8.GetByteCount(directory.SocketPath));
        Assert.False(directory.SocketPathShortened);
    }

    [Fact]
    public void For_MovesATooLongSocketPath_ToAShortDirectory_AndSaysSo()
    {
        var work = "/tmp/" + new string('w', 80);
        var directory = ExecutorDirectory.For(work, "executor-with-a-long-id");

        Assert.True(directory.SocketPathShortened);
        Assert.StartsWith("/tmp/flame-sockets/", directory.SocketPath);
        Assert.EndsWith(".sock", directory.SocketPath);
        Assert.True(Encoding.UTF8.GetByteCount(directory.SocketPath) <= ExecutorDirectory.MaxSocketPathBytes);
        // The log and the working directory stay where they belong.
        Assert.Equal($"{work}/executors/executor-with-a-long-id/service.log", directory.LogPath);
    }

    [Fact]
    public void For_CountsBytes_NotCharacters()
    {
        // 40 two-byte characters: 80 bytes of directory name, too long for sun_path once the rest is added.
        var work = "/tmp/" + new string('é', 40);

        Assert.True(ExecutorDirectory.For(work, "e").SocketPathShortened);
    }

    [Fact]
    public void For_GivesDifferentExecutors_DifferentShortSockets()
    {
        var work = "/tmp/" + new string('w', 100);

        Assert.NotEqual(ExecutorDirectory.For(work, "a").SocketPath, ExecutorDirectory.For(work, "b").SocketPath);
    }

    [Theory]
    [InlineData("../../etc", "/tmp/flame/executors/.._.._etc")]
    [InlineData("..", "/tmp/flame/executors/_..")]
    [InlineData("a/b", "/tmp/flame/executors/a_b")]
    public void For_KeepsAnExecutorId_FromEscapingTheWorkDirectory(string id, string root)
    {
        Assert.Equal(root, ExecutorDirectory.For("/tmp/flame", id).Root);
    }

    [Fact]
    public void Prune_KeepsRunningExecutors_AndTheNewestEndedOnes()
    {
        var work = Directory.CreateTempSubdirectory("flame-prune-").FullName;
        try
        {
            var start = DateTime.UtcNow.AddHours(-1);
            foreach (var (id, minutes) in new[] { ("running", 0), ("old", 1), ("older", 2), ("new", 30), ("newer", 40) })
            {
                var root = ExecutorDirectory.For(work, id).Root;
                Directory.CreateDirectory(root);
                File.WriteAllText(Path.Combine(root, ExecutorDirectory.LogFileName), id);
                Directory.SetLastWriteTimeUtc(root, start.AddMinutes(minutes));
            }

            var deleted = ExecutorDirectories.Prune(work, keep: 2, running: ["running"]);

            Assert.Equal(2, deleted);
            Assert.Equal(["new", "newer", "running"],
                Directory.GetDirectories(Path.Combine(work, "executors")).Select(Path.GetFileName).Order());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void Prune_OfAWorkDirectoryWithoutExecutors_DeletesNothing()
    {
        Assert.Equal(0, ExecutorDirectories.Prune("/tmp/flame-prune-missing-" + Guid.NewGuid().ToString("N"), keep: 0, running: []));
    }
}
