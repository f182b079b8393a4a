using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Reflection;
using System.Text;
using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Tests.Support;
using Flame.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using Environment = System.Environment;

namespace Flame.ExecutorManager.Tests;

/// <summary>
/// The node as the last guard, and what it does with an application before starting it (variables, url packages):
/// a real node against the fake gateway, real service processes, a real HTTP server on loopback.
/// </summary>
public sealed class NodeGuardNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static string TestServicePath => TestNodes.TestServicePath;

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("flame-em-guard-");
    private readonly List<IHost> _nodes = [];
    private FakeGateway _gateway = null!;

    private FakeBackend Backend => _gateway.Backend;

    public async Task InitializeAsync() => _gateway = await FakeGateway.StartAsync(taskStream: false);

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.StopAsync(TimeSpan.FromSeconds(10));
            node.Dispose();
        }
        await _gateway.DisposeAsync();
        _work.Delete(recursive: true);
    }

    [Fact]
    public async Task ACommandTheNodeDoesNotAllow_IsABindFailure_ThatSaysWhy_AndNothingIsStarted()
    {
        await StartNodeAsync(allowed: [Path.GetDirectoryName(TestServicePath)!]);

        var completed = await BindOnceAsync(Shell("touch " + Path.Combine(_work.FullName, "pwned")));

        Assert.NotEqual(0, completed.Result.ReturnCode);
        Assert.Equal(
            $"shim creation failed: command /bin/sh is not allowed on node node-a: {Shims.RealPath.Of("/bin/sh")} is not in Flame:ExecutorManager:AllowedCommands",
            completed.Result.Message);
        Assert.False(File.Exists(Path.Combine(_work.FullName, "pwned")), "the refused command should not have run");
        Assert.False(File.Exists(Path.Combine(_work.FullName, "executors", "e1", "service.log")), "no process should have been started");
    }

    [Fact]
    public async Task ANodeWithNothingConfigured_RefusesEveryCommand_ButTheBuiltInServices()
    {
        // The default of a standalone node: no AllowedCommands, and no built-in service next to this test's program.
        await StartNodeAsync(allowed: []);

        var completed = await BindOnceAsync(TestService());

        Assert.Equal(
            $"shim creation failed: command {TestServicePath} is not allowed on node node-a: {TestServicePath} is not in Flame:ExecutorManager:AllowedCommands",
            completed.Result.Message);
    }

    [Fact]
    public async Task AWorkingDirectoryOutsideTheAllowedOnes_IsABindFailure_ThatSaysWhy()
    {
        await StartNodeAsync();
        var app = TestService();
        app.Spec.WorkingDirectory = "/etc";

        var completed = await BindOnceAsync(app);

        Assert.NotEqual(0, completed.Result.ReturnCode);
        Assert.Equal(
            "shim creation failed: working directory /etc is not allowed on node node-a: /etc is neither under the executor's directory nor in Flame:ExecutorManager:AllowedWorkingDirectories",
            completed.Result.Message);
    }

    [Fact]
    public async Task TheService_GetsACleanEnvironment_WithoutTheNodesSecrets()
    {
        const string Secret = "Flame__Cluster__ConnectionString";
        var environmentFile = Path.Combine(_work.FullName, "service.env");
        Environment.SetEnvironmentVariable(Secret, "Host=db;Password=do-not-leak");
        try
        {
            await StartNodeAsync();
        }
        finally
        {
            Environment.SetEnvironmentVariable(Secret, null);
        }

        var completed = await BindOnceAsync(Shell($"env > '{environmentFile}'; exec '{TestServicePath}'", ("APP_SETTING", "on"), ("DATA", "${HOME}/data")));

        Assert.Equal(0, completed.Result.ReturnCode);
        var variables = File.ReadAllLines(environmentFile).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        Assert.DoesNotContain(Secret, variables.Keys);
        Assert.DoesNotContain(variables.Values, v => v.Contains("do-not-leak", StringComparison.Ordinal));
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), variables["PATH"]);
        Assert.Equal(Environment.GetEnvironmentVariable("HOME"), variables["HOME"]);
        Assert.Equal("on", variables["APP_SETTING"]);
        Assert.Equal(Environment.GetEnvironmentVariable("HOME") + "/data", variables["DATA"]);
        Assert.Equal("e1", variables["FLAME_EXECUTOR_ID"]);
        Assert.Equal("s1", variables["FLAME_SESSION_ID"]);
        // Nothing else of this process's environment: only the pass-through list, the application's and Flame's.
        var expected = FlameExecutorManagerOptions.DefaultPassEnvironment.Where(n => !n.EndsWith('*')).ToHashSet(StringComparer.Ordinal);
        var unexpected = variables.Keys.Where(k => Environment.GetEnvironmentVariable(k) is not null && !expected.Contains(k)
            && !k.StartsWith("LC_", StringComparison.Ordinal) && k is not ("PWD" or "SHLVL" or "_" or "OLDPWD")).ToList();
        Assert.True(unexpected.Count == 0, $"the service inherited {string.Join(", ", unexpected)}");
    }

    [Fact]
    public async Task ABinaryPackageFromAnHttpUrl_IsUnpacked_AndItsCommandRuns_FetchedOncePerApplication()
    {
        var package = TarGz(("bin/service", $"#!/bin/sh\necho \"started from $FLAME_APP_DIR\" >> \"$OUT\"\nexec '{TestServicePath}'\n", true), ("data.txt", "payload", false));
        await using var server = await PackageServer.StartAsync(new Dictionary<string, byte[]> { ["/pkgs/service.tar.gz"] = package });
        await StartNodeAsync(allowed: [Path.GetDirectoryName(TestServicePath)!, Path.Combine(_work.FullName, "apps")]);
        var log = Path.Combine(_work.FullName, "package.log");
        // A bare command, found on the PATH the package puts first; the package's directory in FLAME_APP_DIR.
        var app = Packaged("service", server.Url("/pkgs/service.tar.gz"), ("OUT", log));

        var first = await BindOnceAsync(app, "e1");
        var second = await BindOnceAsync(app, "e2");

        Assert.Equal((0, 0), (first.Result.ReturnCode, second.Result.ReturnCode));
        var lines = File.ReadAllLines(log);
        Assert.Equal(2, lines.Length);
        var directory = lines[0]["started from ".Length..];
        Assert.StartsWith(Path.Combine(_work.FullName, "apps", "packaged", "releases") + "/", directory);
        Assert.Equal("payload", File.ReadAllText(Path.Combine(directory, "data.txt")));
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task AZipPackageFromAFileUrl_IsUnpacked_AndVariablesInTheCommandAreExpanded()
    {
        var zip = Path.Combine(_work.FullName, "package.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            using var entry = new StreamWriter(archive.CreateEntry("config/settings.txt").Open());
            entry.Write("from the zip");
        }
        await StartNodeAsync(allowed: [Path.GetDirectoryName(TestServicePath)!, "/bin/sh", Path.Combine(_work.FullName, "apps")]);
        var copy = Path.Combine(_work.FullName, "settings.copy");
        var app = Packaged("/bin/sh", new Uri(zip).AbsoluteUri);
        app.Spec.Arguments.Add(["-c", $"cp \"$1/config/settings.txt\" '{copy}'; exec '{TestServicePath}'", "sh", "${FLAME_APP_DIR}"]);

        var completed = await BindOnceAsync(app);

        Assert.Equal(0, completed.Result.ReturnCode);
        Assert.Equal("from the zip", File.ReadAllText(copy));
    }

    [Fact]
    public async Task APackageThatCannotBeFetched_IsAnInstallationFailure_AndIsTriedAgainAtTheNextBinding()
    {
        await using var server = await PackageServer.StartAsync(new Dictionary<string, byte[]>());
        await StartNodeAsync(allowed: [Path.GetDirectoryName(TestServicePath)!, Path.Combine(_work.FullName, "apps")]);
        var app = Packaged(TestServicePath, server.Url("/missing.tar.gz"));

        var first = await BindOnceAsync(app, "e1");
        var second = await BindOnceAsync(app, "e2");

        Assert.Equal(10, first.Result.ReturnCode);
        Assert.Equal(
            $"application installation failed: cannot fetch url '{server.Url("/missing.tar.gz")}': HTTP 404 Not Found",
            first.Result.Message);
        Assert.Equal(10, second.Result.ReturnCode);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task ARefusedCommand_IsABindFailure_BeforeItsPackageIsFetched()
    {
        var package = TarGz(("data.txt", "payload", false));
        await using var server = await PackageServer.StartAsync(new Dictionary<string, byte[]> { ["/pkgs/p.tar.gz"] = package });
        await StartNodeAsync(allowed: [Path.GetDirectoryName(TestServicePath)!, Path.Combine(_work.FullName, "apps")]);

        var completed = await BindOnceAsync(Packaged("/bin/sh", server.Url("/pkgs/p.tar.gz")));

        Assert.Equal(
            $"shim creation failed: command /bin/sh is not allowed on node node-a: {Shims.RealPath.Of("/bin/sh")} is not in Flame:ExecutorManager:AllowedCommands",
            completed.Result.Message);
        Assert.Equal(0, server.Requests);
        Assert.False(Directory.Exists(Path.Combine(_work.FullName, "apps")), "nothing should have been unpacked");
    }

    [Fact]
    public async Task APackageOutsideTheAllowedCommands_IsABindFailure_AndIsNeverFetched()
    {
        var package = TarGz(("libs/libc.so.6", "not a library", false));
        await using var server = await PackageServer.StartAsync(new Dictionary<string, byte[]> { ["/pkgs/p.tar.gz"] = package });
        // The command is allowed; the package would put its libs first in the allowed program's LD_LIBRARY_PATH.
        await StartNodeAsync(allowed: [Path.GetDirectoryName(TestServicePath)!]);

        var completed = await BindOnceAsync(Packaged(TestServicePath, server.Url("/pkgs/p.tar.gz")));

        Assert.NotEqual(0, completed.Result.ReturnCode);
        Assert.StartsWith($"shim creation failed: url {server.Url("/pkgs/p.tar.gz")} is not allowed on node node-a: its package would be unpacked into ", completed.Result.Message);
        Assert.EndsWith(" which is not in Flame:ExecutorManager:AllowedCommands", completed.Result.Message);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task APackageLargerThanMaxPackageBytes_IsAnInstallationFailure()
    {
        var package = TarGz(("data.txt", new string('x', 4096), false));
        await using var server = await PackageServer.StartAsync(new Dictionary<string, byte[]> { ["/pkgs/big.tar.gz"] = package });
        _nodes.Add(await TestNodes.StartAsync(_gateway.Endpoint, _work.FullName, output, o =>
        {
            o.AllowedCommands = [Path.GetDirectoryName(TestServicePath)!, Path.Combine(_work.FullName, "apps")];
            o.MaxPackageBytes = 1024;
        }));

        var completed = await BindOnceAsync(Packaged(TestServicePath, server.Url("/pkgs/big.tar.gz")));

        Assert.Equal(10, completed.Result.ReturnCode);
        Assert.Equal(
            $"application installation failed: the package of url '{server.Url("/pkgs/big.tar.gz")}' unpacks to more than 1024 bytes (Flame:ExecutorManager:MaxPackageBytes)",
            completed.Result.Message);
    }

    [Fact]
    public async Task AnUnknownInstaller_IsAnInstallationFailure_WithFlamesMessage()
    {
        await StartNodeAsync();
        var app = Packaged(TestServicePath, "file:///nonexistent.tar.gz");
        app.Spec.Installer = "conda";

        var completed = await BindOnceAsync(app);

        Assert.Equal(10, completed.Result.ReturnCode);
        Assert.Equal("application installation failed: Unknown installer type: conda. Supported types: binary, python", completed.Result.Message);
    }

    // ------------------------------------------------------------------ helpers

    private async Task<BindExecutorCompletedRequest> BindOnceAsync(Application app, string executorId = "e1")
    {
        Backend.Bind(executorId, app, new Session { Metadata = new Metadata { Id = "s1", Name = "s1" }, Spec = new SessionSpec { Application = app.Metadata.Name } });
        Backend.Launch(executorId, null);
        Backend.NoBinding(executorId);
        Backend.CreateExecutor(executorId);
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: executorId);
        return await Backend.WaitForAsync<BindExecutorCompletedRequest>("BindExecutorCompleted", executorId: executorId);
    }

    private async Task StartNodeAsync(string[]? allowed = null) =>
        _nodes.Add(await TestNodes.StartAsync(_gateway.Endpoint, _work.FullName, output, o => o.AllowedCommands = allowed ?? o.AllowedCommands));

    private static Application TestService() =>
        new() { Metadata = new Metadata { Id = "test", Name = "test" }, Spec = new ApplicationSpec { Command = TestServicePath } };

    private static Application Shell(string script, params (string Name, string Value)[] environment)
    {
        var spec = new ApplicationSpec { Command = "/bin/sh" };
        spec.Arguments.Add(["-c", script]);
        foreach (var (name, value) in environment)
            spec.Environments.Add(new V1.Environment { Name = name, Value = value });
        return new Application { Metadata = new Metadata { Id = "shell", Name = "shell" }, Spec = spec };
    }

    private static Application Packaged(string command, string url, params (string Name, string Value)[] environment)
    {
        var spec = new ApplicationSpec { Command = command, Url = url, Installer = "binary" };
        foreach (var (name, value) in environment)
            spec.Environments.Add(new V1.Environment { Name = name, Value = value });
        return new Application { Metadata = new Metadata { Id = "packaged", Name = "packaged" }, Spec = spec };
    }

    private static byte[] TarGz(params (string Path, string Content, bool Executable)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var (path, content, executable) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                    Mode = executable
                        ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
                        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
                };
                tar.WriteEntry(entry);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>A real HTTP server on a free loopback port that serves fixed files and counts the requests.</summary>
    private sealed class PackageServer : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly IReadOnlyDictionary<string, byte[]> _files;
        private readonly Task _serving;
        private readonly int _port;
        private int _requests;

        private PackageServer(HttpListener listener, int port, IReadOnlyDictionary<string, byte[]> files)
        {
            _listener = listener;
            _port = port;
            _files = files;
            _serving = ServeAsync();
        }

        public int Requests => Volatile.Read(ref _requests);

        public string Url(string path) => $"http://127.0.0.1:{_port}{path}";

        public static Task<PackageServer> StartAsync(IReadOnlyDictionary<string, byte[]> files)
        {
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePorts.Next();
                var listener = new HttpListener();
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                try
                {
                    listener.Start();
                    return Task.FromResult(new PackageServer(listener, port, files));
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                    // Taken between the check and the bind: another port.
                    listener.Close();
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            try
            {
                await _serving;
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                // Stopped while waiting for a request.
            }
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                var context = await _listener.GetContextAsync();
                Interlocked.Increment(ref _requests);
                if (_files.TryGetValue(context.Request.Url!.AbsolutePath, out var body))
                {
                    context.Response.StatusCode = 200;
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                }
                else
                {
                    context.Response.StatusCode = 404;
                }
                context.Response.Close();
            }
        }
    }
}
