using System.Text.Json;
using Flame.Cli.Control;

namespace Flame.Cli.Tests;

/// <summary>flmctl's commands run in-process against a real session manager, asserting output and exit codes.</summary>
[Collection(GatewayCollection.Name)]
public sealed class FlmctlEndToEndTests(GatewayFixture gateway) : IDisposable
{
    private const string Unreachable = "http://127.0.0.1:1";
    private readonly string _dir = Directory.CreateTempSubdirectory("flmctl-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Result(int Code, string Out, string Err)
    {
        public string[] Lines => Out.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
    }

    private static async Task<Result> RunAt(string endpoint, params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Flmctl.RunAsync([.. args, "--endpoint", endpoint], stdout, stderr, color: false);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    private Task<Result> Run(params string[] args) => RunAt(gateway.Endpoint, args);

    private static void AssertOneLineError(Result result, int code, string contains)
    {
        Assert.Equal(code, result.Code);
        Assert.Equal("", result.Out);
        var err = result.Err.ReplaceLineEndings("\n").TrimEnd('\n');
        Assert.DoesNotContain('\n', err);
        Assert.StartsWith("flmctl: ", err);
        Assert.Contains(contains, err);
    }

    private string File(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private async Task<string> RegisterAppAsync()
    {
        var name = "app-" + Guid.NewGuid().ToString("N")[..8];
        var result = await Run("register", "-f", File(name + ".yaml", $"name: {name}\ncommand: /bin/true\nmax_instances: 3\ndelay_release: 5\n"));
        Assert.Equal((0, $"application {name} registered"), (result.Code, result.Out.TrimEnd()));
        return name;
    }

    [Fact]
    public async Task Applications_AreRegisteredListedViewedUpdatedAndUnregistered()
    {
        var name = await RegisterAppAsync();

        var list = await Run("list", "-a");
        Assert.Equal(0, list.Code);
        Assert.Matches(@"^NAME\s+STATE\s+SHIM\s+COMMAND\s+MAX\s+DELAY\s+CREATED$", list.Lines[0]);
        Assert.Contains(list.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{name}\s+Enabled\s+Host\s+/bin/true\s+3\s+5s\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d$"));

        var table = await Run("view", "-a", name);
        Assert.Equal(0, table.Code);
        Assert.Contains($"Application:        {name}", table.Lines);
        Assert.Contains("Max instances:      3", table.Lines);

        var json = await Run("view", "-a", name, "-o", "json");
        using (var doc = JsonDocument.Parse(json.Out))
        {
            Assert.Equal(name, doc.RootElement.GetProperty("name").GetString());
            Assert.Equal(3, doc.RootElement.GetProperty("maxInstances").GetInt32());
            Assert.Equal("/bin/true", doc.RootElement.GetProperty("command").GetString());
        }

        var update = await Run("update", "-f", File("u.yaml", $"name: {name}\ncommand: /bin/false\nlabels: [a]\n"));
        Assert.Equal((0, $"application {name} updated"), (update.Code, update.Out.TrimEnd()));
        var yaml = await Run("view", "-a", name, "-o", "yaml");
        Assert.Equal(0, yaml.Code);
        Assert.Contains("command: /bin/false", yaml.Lines);
        Assert.Contains($"name: {name}", yaml.Lines);
        Assert.Contains("  - a", yaml.Lines);

        var unregister = await Run("unregister", "-a", name);
        Assert.Equal((0, $"application {name} unregistered"), (unregister.Code, unregister.Out.TrimEnd()));
        AssertOneLineError(await Run("view", "-a", name), 1, name);
    }

    [Fact]
    public async Task Sessions_AreCreatedListedViewedClosedAndDeleted()
    {
        var app = await RegisterAppAsync();
        var id = "s-" + Guid.NewGuid().ToString("N")[..8];
        var data = File("common.bin", "hello");

        var create = await Run("create", "-a", app, "--id", id, "--priority", "2", "--min", "0", "--max", "4", "--common-data-file", data);
        Assert.Equal((0, id), (create.Code, create.Out.TrimEnd()));
        var generated = await Run("create", "-a", app);
        Assert.Equal(0, generated.Code);
        Assert.NotEmpty(generated.Out.Trim());

        await gateway.Client.CreateTaskAsync(id, "in"u8.ToArray());

        var list = await Run("list", "-s");
        Assert.Equal(0, list.Code);
        Assert.Matches(@"^ID\s+STATE\s+APP\s+PRIORITY\s+PENDING\s+RUNNING\s+SUCCEED\s+FAILED\s+CANCELLED\s+CREATED$", list.Lines[0]);
        Assert.Contains(list.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{id}\s+Open\s+{app}\s+2\s+1\s+0\s+0\s+0\s+0\s+\d{{4}}-"));

        var view = await Run("view", "-s", id);
        Assert.Equal(0, view.Code);
        Assert.Contains("Common data:    5 B", view.Lines);
        Assert.Contains("Max instances:  4", view.Lines);
        Assert.Contains(view.Lines, l => l.StartsWith("  100   Created"));

        var task = await Run("view", "-t", $"{id}/1");
        Assert.Equal(0, task.Code);
        Assert.Contains($"Task:       {id}/1", task.Lines);
        Assert.Contains("State:      Pending", task.Lines);
        Assert.Contains("Input:      2 B", task.Lines);
        Assert.Contains(task.Lines, l => l.StartsWith("  0     Pending"));

        var taskJson = await Run("view", "-s", id, "-t", "1", "-o", "json");
        using (var doc = JsonDocument.Parse(taskJson.Out))
        {
            Assert.Equal("Pending", doc.RootElement.GetProperty("state").GetString());
            Assert.Equal(2, doc.RootElement.GetProperty("inputSize").GetInt32());
            Assert.Equal("aW4=", doc.RootElement.GetProperty("input").GetString());
        }

        var close = await Run("close", "-s", id);
        Assert.Equal((0, $"session {id} closed"), (close.Code, close.Out.TrimEnd()));
        var closed = await Run("view", "-s", id, "-o", "yaml");
        Assert.Contains("state: Closed", closed.Lines);
        Assert.Contains("  cancelled: 1", closed.Lines);

        var delete = await Run("delete", "-s", id);
        Assert.Equal((0, $"session {id} deleted"), (delete.Code, delete.Out.TrimEnd()));
        AssertOneLineError(await Run("view", "-s", id), 1, id);
    }

    [Fact]
    public async Task ExecutorsAndNodes_AreListed_AsTablesWithHeaders()
    {
        var executors = await Run("list", "-e");
        Assert.Equal(0, executors.Code);
        Assert.Matches(@"^ID\s+NODE\s+STATE\s+SESSION$", executors.Lines[0]);
        var nodes = await Run("list", "-n");
        Assert.Equal(0, nodes.Code);
        Assert.Matches(@"^NAME\s+STATE\s+CPU\s+MEMORY\s+ARCH\s+OS\s+HEARTBEAT$", nodes.Lines[0]);
    }

    public static TheoryData<string[]> WrongIds() => new()
    {
        new[] { "view", "-s", "no-such-session" },
        new[] { "view", "-t", "no-such-session/1" },
        new[] { "view", "-a", "no-such-app" },
        new[] { "view", "-n", "no-such-node" },
        new[] { "close", "-s", "no-such-session" },
        new[] { "delete", "-s", "no-such-session" },
        new[] { "unregister", "-a", "no-such-app" },
        new[] { "create", "-a", "no-such-app" },
    };

    [Theory]
    [MemberData(nameof(WrongIds))]
    public async Task WrongIds_FailWithOneLine_AndExitCode1(string[] args) =>
        AssertOneLineError(await Run(args), 1, "no-such-");

    [Fact]
    public async Task UpdatingAnUnknownApplication_FailsWithOneLine() =>
        AssertOneLineError(await Run("update", "-f", File("x.yaml", "name: no-such-app\n")), 1, "no-such-app");

    [Fact]
    public async Task AWrongTaskIdOfAKnownSession_FailsWithOneLine()
    {
        var app = await RegisterAppAsync();
        var id = (await Run("create", "-a", app)).Out.Trim();
        AssertOneLineError(await Run("view", "-s", id, "-t", "99"), 1, "99");
    }

    [Theory]
    [InlineData("register")]
    [InlineData("update")]
    public async Task MalformedFiles_FailWithFileAndLine_AndExitCode2(string command)
    {
        var path = File("bad.yaml", "name: x\nmax_instances: lots\n");
        AssertOneLineError(await Run(command, "-f", path), 2, $"{path}:2: max_instances: must be a whole number");
        AssertOneLineError(await Run(command, "-f", File("bad2.yaml", "name: [x\n")), 2, "not valid YAML");
        AssertOneLineError(await Run(command, "-f", Path.Combine(_dir, "missing.yaml")), 2, "cannot read the file");
    }

    [Fact]
    public async Task AnUnreadableCommonDataFile_IsAUsageError() =>
        AssertOneLineError(await Run("create", "-a", "x", "--common-data-file", Path.Combine(_dir, "none.bin")), 2, "none.bin");

    public static TheoryData<string[]> EveryCommand() => new()
    {
        new[] { "list", "-a" }, new[] { "list", "-s" }, new[] { "list", "-e" }, new[] { "list", "-n" },
        new[] { "view", "-s", "s" }, new[] { "view", "-a", "a" }, new[] { "view", "-t", "s/1" }, new[] { "view", "-n", "n" },
        new[] { "create", "-a", "a" }, new[] { "close", "-s", "s" }, new[] { "delete", "-s", "s" },
        new[] { "unregister", "-a", "a" },
    };

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public async Task AnUnreachableEndpoint_FailsWithOneLine_AndExitCode1(string[] args) =>
        AssertOneLineError(await RunAt(Unreachable, args), 1, $"cannot reach the Flame endpoint: {Unreachable}");

    [Fact]
    public async Task RegisteringAgainstAnUnreachableEndpoint_FailsWithOneLine() =>
        AssertOneLineError(await RunAt(Unreachable, "register", "-f", File("ok.yaml", "name: ok\n")), 1, "cannot reach");

    [Theory]
    [InlineData("list")]
    [InlineData("view")]
    [InlineData("view", "-a", "x", "-o", "xml")]
    [InlineData("view", "-t", "7")]
    [InlineData("create")]
    [InlineData("close")]
    [InlineData("frobnicate")]
    [InlineData("create", "-a", "x", "--min", "3", "--max", "2")]
    public async Task UsageMistakes_ExitWithCode2_AndNoStackTrace(params string[] args)
    {
        var result = await Run(args);
        Assert.Equal(2, result.Code);
        Assert.StartsWith("flmctl: ", result.Err);
        Assert.DoesNotContain("   at ", result.Err);
    }

    [Fact]
    public async Task EveryCommand_HasHelp_WithTheEndpointOption()
    {
        foreach (var command in new[] { "list", "view", "create", "close", "delete", "register", "update", "unregister", "migrate", "health", "completion" })
        {
            var help = await Run(command, "--help");
            Assert.Equal(0, help.Code);
            Assert.Contains($" {command} ", help.Out); // the root is named after the executable: testhost here
            Assert.Contains("--endpoint", help.Out);
        }
    }

    // ------------------------------------------------------------------ Flame's files and flags

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Register_ReadsFlamesExampleFiles_OneApplicationPerDocument()
    {
        // Flame's examples/crawler/crawler-app.yaml and examples/agents/sra/sra.yaml shapes, in one file as Flame allows.
        var (crawler, sra) = (Unique("crawler-app"), Unique("sra"));
        var path = File("apps.yaml", $$"""
            metadata:
              name: {{crawler}}
            spec:
              shim: host
              description: text
              labels: [Tool]
              command: /usr/bin/uv
              arguments: [run, crawler.py]
              environments: {FLAME_LOG_LEVEL: DEBUG}
              working_directory: /opt/examples/crawler/
              max_instances: 10
              delay_release: 60
              url: file:///pkg.tar.gz
              installer: python
            ---
            metadata:
              name: {{sra}}
            spec:
              command: /usr/bin/uv
              arguments: [run, sra.py]
              schema: {input: '{"type":"string"}', output: '{"type":"string"}'}
            """);

        var result = await Run("register", "-f", path);

        Assert.Equal((0, ""), (result.Code, result.Err));
        Assert.Equal([$"application {crawler} registered", $"application {sra} registered"], result.Lines);
        var first = (await gateway.Client.GetApplicationAsync(crawler)).Spec;
        Assert.Equal(("/usr/bin/uv", "run crawler.py", "FLAME_LOG_LEVEL=DEBUG", "/opt/examples/crawler/"),
            (first.Command, string.Join(' ', first.Arguments), string.Join(',', first.Environments.Select(e => $"{e.Name}={e.Value}")), first.WorkingDirectory));
        Assert.Equal((10u, 60L, "file:///pkg.tar.gz", "python", "Tool"), (first.MaxInstances, first.DelayRelease, first.Url, first.Installer, first.Labels.Single()));
        var second = (await gateway.Client.GetApplicationAsync(sra)).Spec;
        Assert.Equal(("run sra.py", """{"type":"string"}"""), (string.Join(' ', second.Arguments), second.Schema?.Input));
        var view = await Run("view", "-a", crawler);
        Assert.Contains("URL:                file:///pkg.tar.gz", view.Lines);
        Assert.Contains("Installer:          python", view.Lines);
        using var json = JsonDocument.Parse((await Run("view", "-a", sra, "-o", "json")).Out);
        Assert.Equal("""{"type":"string"}""", json.RootElement.GetProperty("schema").GetProperty("output").GetString());
    }

    [Fact]
    public async Task Register_WarnsOfUnknownKeysOnStderr_AndStillRegisters()
    {
        var name = Unique("warned");
        var path = File("warn.yaml", $"apiVersion: v1\nmetadata:\n  name: {name}\nspec:\n  command: /bin/true\n  replicas: 2\n");

        var result = await Run("register", "-f", path);

        Assert.Equal(0, result.Code);
        Assert.Equal([$"flmctl: warning: {path}:1: unknown key 'apiVersion' (ignored)", $"flmctl: warning: {path}:6: unknown key 'spec.replicas' (ignored)"],
            result.Err.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
        Assert.Equal("/bin/true", (await gateway.Client.GetApplicationAsync(name)).Spec.Command);
    }

    [Fact]
    public async Task Update_TakesTheFileWithFlamesDashA_OneDocumentOnly()
    {
        var name = await RegisterAppAsync();

        var update = await Run("update", "-a", File("u.yaml", $"metadata:\n  name: {name}\nspec:\n  command: /bin/false\n"));

        Assert.Equal((0, $"application {name} updated"), (update.Code, update.Out.TrimEnd()));
        Assert.Equal("/bin/false", (await gateway.Client.GetApplicationAsync(name)).Spec.Command);
        var two = File("two.yaml", $"name: {name}\n---\nname: other\n");
        AssertOneLineError(await Run("update", "--application", two), 2, "update takes one application; the file holds 2");
        AssertOneLineError(await Run("update"), 2, "give the application file with -f FILE (or -a FILE)");
    }

    [Fact]
    public async Task Create_TakesFlamesAppPriorityAndResreqFlags()
    {
        var app = await RegisterAppAsync();

        var create = await Run("create", "--app", app, "-p", "3", "-r", "cpu=2, MEM=1g,gpu=0");

        Assert.Equal(0, create.Code);
        var session = await gateway.Client.GetSessionAsync(create.Out.Trim());
        Assert.Equal((app, 3u), (session.Spec.Application, session.Spec.Priority));
        Assert.Equal(new ResourceRequirement { Cpu = 2, Memory = 1UL << 30, Gpu = 0 }, session.Spec.ResReq);
    }

    [Theory]
    [InlineData("cpu=1,", "has an empty entry")]
    [InlineData("cpu", "is not key=value")]
    [InlineData("cpu=1=2", "is not key=value")]
    [InlineData("disk=1", "unknown key 'disk'")]
    [InlineData("mem=lots", "not a size")]
    public async Task Create_WithABadResreq_FailsWithOneLine_AndExitCode2(string resreq, string problem) =>
        AssertOneLineError(await Run("create", "--app", "x", "-r", resreq), 2, problem);

    [Fact]
    public async Task View_TakesFlamesOutputFormatFlag()
    {
        var app = await RegisterAppAsync();
        var id = (await Run("create", "-a", app)).Out.Trim();

        var view = await Run("view", "-s", id, "--output-format", "json");

        Assert.Equal(0, view.Code);
        using var doc = JsonDocument.Parse(view.Out);
        Assert.Equal(id, doc.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task List_WithSeveralKinds_ListsTheFirstOfApplicationsSessionsExecutorsNodes_AsFlameDoes()
    {
        var list = await Run("list", "-n", "-s");

        Assert.Equal(0, list.Code);
        Assert.StartsWith("ID ", list.Lines[0]);
        Assert.Contains("PRIORITY", list.Lines[0]);
    }

    [Fact]
    public async Task Migrate_TakesFlamesFlags_AndHasNothingToDo()
    {
        var migrate = await Run("migrate", "-u", "sqlite://flame.db", "-s", "/opt/flame/migrations");

        Assert.Equal((0, "nothing to migrate: Flame.Orleans creates and upgrades its storage itself"), (migrate.Code, migrate.Out.TrimEnd()));
    }

    [Fact]
    public async Task SuggestDirective_CompletesCommandsOptionsAndValues()
    {
        async Task<string[]> Suggest(string line)
        {
            var stdout = new StringWriter();
            Assert.Equal(0, await Flmctl.RunAsync([$"[suggest:{line.Length}]", line], stdout, new StringWriter(), color: false));
            return stdout.ToString().ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        Assert.Equal(["list"], await Suggest("flmctl lis"));
        Assert.Contains("--executor", await Suggest("flmctl list --"));
        Assert.Equal(["yaml"], await Suggest("flmctl view -o ya"));
    }

    [Fact]
    public async Task CompletionBash_PrintsAScriptUsingTheSuggestDirective()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, await Flmctl.RunAsync(["completion", "bash"], stdout, new StringWriter(), color: false));
        Assert.Contains("[suggest:${COMP_POINT}]", stdout.ToString());
        Assert.Contains("complete -o default -F _flmctl_complete flmctl", stdout.ToString());
    }

    [Fact]
    public async Task CompletionZsh_PrintsTheBashScript_ThroughZshsBashcompinit()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, await Flmctl.RunAsync(["completion", "zsh"], stdout, new StringWriter(), color: false));
        var lines = stdout.ToString().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal("autoload -U +X bashcompinit && bashcompinit", lines[1]);
        Assert.Contains("complete -o default -F _flmctl_complete flmctl", lines);
    }
}
