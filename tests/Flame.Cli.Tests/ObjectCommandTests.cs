using Flame.Cli.Control;
using Flame.ObjectCache;

namespace Flame.Cli.Tests;

/// <summary>A session manager whose object cache listens on a port the tests know, and a client that fills it.</summary>
public sealed class CacheGatewayFixture : IAsyncLifetime
{
    private InProcessGateway? _gateway;

    /// <summary>The cache's endpoint, <c>grpc://127.0.0.1:PORT</c>.</summary>
    public string CacheEndpoint { get; } = $"grpc://127.0.0.1:{FreePorts.Next()}";

    public ObjectCacheClient Objects { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _gateway = await InProcessGateway.StartAsync(new Dictionary<string, string?> { ["Flame:ObjectCache:Endpoint"] = CacheEndpoint });
        Objects = new ObjectCacheClient(CacheEndpoint);
    }

    public async Task DisposeAsync()
    {
        Objects?.Dispose();
        if (_gateway is not null)
            await _gateway.DisposeAsync();
    }
}

/// <summary><c>flmctl object list|view|delete</c> against a real session manager's Flight server.</summary>
public sealed class ObjectCommandTests(CacheGatewayFixture cache) : IClassFixture<CacheGatewayFixture>
{
    private sealed record Result(int Code, string Out, string Err);

    private async Task<Result> Run(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Flmctl.RunAsync(args, stdout, stderr, color: false);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    private Task<Result> RunAt(params string[] args) => Run([.. args, "--cache-endpoint", cache.CacheEndpoint]);

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    [Fact]
    public async Task ObjectList_ShowsTheObjectsOfOneApplicationOrSession_WithTheirSizes()
    {
        var app = Unique("list");
        var one = await cache.Objects.PutObjectAsync($"{app}/s1", new byte[1500]);
        var two = await cache.Objects.PutObjectAsync($"{app}/s2/named", "xy"u8.ToArray());
        await cache.Objects.PutObjectAsync($"{Unique("other")}/s1/x", "z"u8.ToArray());

        var all = await RunAt("object", "list", "--app", app);
        Assert.Equal((0, ""), (all.Code, all.Err));
        var lines = all.Out.TrimEnd('\n').Split('\n');
        Assert.Matches(@"^KEY\s+APPLICATION\s+SESSION\s+SIZE$", lines[0]);
        Assert.Equal([$"{one.Key}  {app}  s1  1.5 KiB", $"{two.Key}  {app}  s2  2 B"],
            lines.Skip(1).Select(l => System.Text.RegularExpressions.Regex.Replace(l, " {2,}", "  ")));

        var session = await RunAt("object", "list", "--app", app, "--session", "s2", "-o", "json");
        Assert.Equal(0, session.Code);
        var document = System.Text.Json.JsonDocument.Parse(session.Out).RootElement;
        var only = Assert.Single(document.EnumerateArray());
        Assert.Equal((two.Key, "s2", "named", 2L), (only.GetProperty("key").GetString(), only.GetProperty("session").GetString(),
            only.GetProperty("id").GetString(), only.GetProperty("size").GetInt64()));
    }

    [Fact]
    public async Task ObjectView_PrintsTheVersionPatchesAndSize()
    {
        var put = await cache.Objects.PutObjectAsync($"{Unique("view")}/s", "base"u8.ToArray());
        var at = put with { Endpoint = cache.CacheEndpoint };
        await cache.Objects.PatchObjectAsync(at, "p1"u8.ToArray());
        await cache.Objects.PatchObjectAsync(at, "p2"u8.ToArray());

        var yaml = await RunAt("object", "view", put.Key, "-o", "yaml");
        Assert.Equal((0, ""), (yaml.Code, yaml.Err));
        Assert.Contains($"key: {put.Key}\n", yaml.Out);
        Assert.Contains("version: 3\nbaseVersion: 1\npatches: 2\nsize: 8\nformat: opaque\n", yaml.Out);

        var table = await RunAt("object", "view", put.Key);
        Assert.Matches($@"{put.Key}\s+3\s+1\s+2\s+8 B\s+opaque\s+3", table.Out);
    }

    [Fact]
    public async Task ObjectDelete_ByKeySessionOrApplication_DeletesThoseObjectsOnly()
    {
        var (app, s2) = (Unique("del"), Unique("s"));
        var key = (await cache.Objects.PutObjectAsync($"{app}/s1", "a"u8.ToArray())).Key;
        var kept = (await cache.Objects.PutObjectAsync($"{app}/s1", "b"u8.ToArray())).Key;
        await cache.Objects.PutObjectAsync($"{app}/{s2}", "c"u8.ToArray());
        await cache.Objects.PutObjectAsync($"{app}x/{s2}", "d"u8.ToArray());
        async Task<List<string>> Keys() =>
            [.. (await cache.Objects.ListObjectsAsync()).Select(o => o.Key).Where(k => k.StartsWith(app, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

        var one = await RunAt("object", "delete", key);
        Assert.Equal((0, $"objects {key} deleted\n"), (one.Code, one.Out));
        Assert.Equal(3, (await Keys()).Count);
        Assert.DoesNotContain(key, await Keys());

        // Without --app: the session's objects under every application.
        var session = await RunAt("object", "delete", "--session", s2);
        Assert.Equal((0, $"objects of session {s2} deleted\n"), (session.Code, session.Out));
        Assert.Equal([kept], await Keys());

        var other = (await cache.Objects.PutObjectAsync($"{app}x/s9", "e"u8.ToArray())).Key;
        var application = await RunAt("object", "delete", "--app", app);
        Assert.Equal((0, $"objects of application {app} deleted\n"), (application.Code, application.Out));
        Assert.Equal([other], await Keys());
    }

    [Fact]
    public async Task ObjectCommands_FindTheCacheInTheContextOfTheConfigurationFile()
    {
        var put = await cache.Objects.PutObjectAsync($"{Unique("ctx")}/s", "v"u8.ToArray());
        var file = Path.Combine(Path.GetTempPath(), Unique("flame") + ".yaml");
        await File.WriteAllTextAsync(file, $"""
            current-context: other
            contexts:
              - name: other
                cluster: {"{"}endpoint: "http://127.0.0.1:1"{"}"}
              - name: here
                cluster: {"{"}endpoint: "http://127.0.0.1:1"{"}"}
                cache: {"{"}endpoint: "{cache.CacheEndpoint}"{"}"}
            """);
        try
        {
            var view = await Run("object", "view", put.Key, "--config", file, "--context", "here", "-o", "json");
            Assert.Equal((0, ""), (view.Code, view.Err));
            Assert.Contains("\"version\": 1", view.Out);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(2, "flmctl: object view: 'app/s' is not a key: give app/session/object_id", "object", "view", "app/s")]
    [InlineData(2, "flmctl: object delete: give a KEY, --session ID or --app NAME", "object", "delete")]
    [InlineData(2, "flmctl: object delete: 'app' is not app/session/object_id, app/session or app/*", "object", "delete", "app")]
    [InlineData(2, "flmctl: --session 'a/b' cannot be part of an object key (empty, or holding '/', '*', '..' or '\\')", "object", "list", "--session", "a/b")]
    [InlineData(1, "flmctl: NotFound: object app/s/none not found", "object", "view", "app/s/none")]
    public async Task ObjectCommands_OnBadInput_PrintOneLineAndExitNonZero(int code, string line, params string[] args)
    {
        var result = await RunAt(args);
        Assert.Equal((code, "", line), (result.Code, result.Out, result.Err.TrimEnd('\n')));
    }

    [Fact]
    public async Task ObjectCommands_WithNoCacheListening_PrintOneLineAndExit1()
    {
        var result = await Run("object", "list", "--cache-endpoint", $"grpc://127.0.0.1:{FreePorts.Next()}");
        Assert.Equal((1, ""), (result.Code, result.Out));
        Assert.StartsWith("flmctl: cannot reach the Flame endpoint: the object cache grpc://127.0.0.1:", result.Err);
        Assert.Single(result.Err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task ObjectCommands_WithAnEndpointOfAnotherScheme_AreAUsageError()
    {
        var result = await Run("object", "list", "--cache-endpoint", "ftp://127.0.0.1:9090");
        Assert.Equal((2, "flmctl: --cache-endpoint 'ftp://127.0.0.1:9090' is not a cache endpoint: use grpc://, grpc+tls:// or grpcs://"),
            (result.Code, result.Err.TrimEnd('\n')));
    }
}
