using System.Text.Json.Nodes;
using Flame.Cli.Control;

namespace Flame.Cli.Tests;

public sealed class UnitsTests
{
    [Theory]
    [InlineData(0UL, "0 B")]
    [InlineData(1023UL, "1023 B")]
    [InlineData(1024UL, "1 KiB")]
    [InlineData(1536UL, "1.5 KiB")]
    [InlineData(3435973837UL, "3.2 GiB")]
    [InlineData(150UL * 1024 * 1024, "150 MiB")]
    public void Bytes_AreWrittenInBinaryUnits(ulong bytes, string expected) => Assert.Equal(expected, Units.Bytes(bytes));

    [Theory]
    [InlineData(4UL, "4")]
    [InlineData(0UL, "0")]
    public void Cpu_IsWrittenInCores(ulong cores, string expected) => Assert.Equal(expected, Units.Cpu(cores));

    [Fact]
    public void Ago_CountsTheLargestWholeUnit()
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_000);
        Assert.Equal("5s ago", Units.Ago(1_000_000_000 - 5_400, now));
        Assert.Equal("3m ago", Units.Ago(1_000_000_000 - 200_000, now));
        Assert.Equal("2h ago", Units.Ago(1_000_000_000 - 2 * 3_600_000 - 5, now));
        Assert.Equal("never", Units.Ago(0, now));
    }

    [Fact]
    public void LocalTime_IsWrittenToTheSecond_InTheGivenZone()
    {
        var ms = new DateTimeOffset(2026, 11, 29, 18, 6, 58, 123, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Assert.Equal("2026-11-29 18:06:58", Units.LocalTime(ms, TimeZoneInfo.Utc));
        Assert.Equal("2026-11-29T18:06:58.123Z", Units.IsoTime(ms));
        Assert.Equal("-", Units.LocalTime(0));
    }

    [Fact]
    public void PrintableText_IsNull_ForBinaryOrInvalidUtf8()
    {
        Assert.Equal("héllo\n", Units.PrintableText("héllo\n"u8.ToArray()));
        Assert.Null(Units.PrintableText([0xff, 0xfe]));
        Assert.Null(Units.PrintableText([0x41, 0x00]));
        Assert.Null(Units.PrintableText(null));
    }
}

public sealed class TableTests
{
    [Fact]
    public void Table_AlignsColumns_AndDoesNotPadTheLastOne()
    {
        var text = new Table("ID", "STATE", "APP").Add("s-1", "Open", "pi").Add("session-22", "Closed", null).ToString();
        Assert.Equal(
            "ID          STATE   APP\n" +
            "s-1         Open    pi\n" +
            "session-22  Closed  -\n",
            text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void ColouredTable_KeepsTheAlignmentOfThePlainText()
    {
        var table = new Table("ID", "STATE", "APP") { Color = true }.ColorColumn(1, Ansi.OfState).Add("s-1", "Open", "pi");
        var lines = table.ToString().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal($"s-1 {Ansi.Green}Open{Ansi.Reset}   pi".Replace("s-1 ", "s-1  "), lines[1]);
        Assert.StartsWith(Ansi.Bold, lines[0]);
    }

    [Fact]
    public void SessionsTable_HasFlamesColumns()
    {
        var session = new SessionInfo
        {
            Id = "s1",
            Spec = new SessionSpec { Application = "pi", Priority = 3 },
            Status = new SessionStatus { State = SessionState.Open, Pending = 4, Running = 1, Succeed = 7, CreationTime = 0 },
        };
        var lines = Views.Sessions([session], color: false).ToString().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal("ID  STATE  APP  PRIORITY  PENDING  RUNNING  SUCCEED  FAILED  CANCELLED  CREATED", lines[0]);
        Assert.Equal("s1  Open   pi   3         4        1        7        0       0          -", lines[1]);
    }

    [Fact]
    public void NodesTable_WritesMemoryAndHeartbeatForPeople()
    {
        var now = DateTimeOffset.UtcNow;
        var node = new NodeInfo
        {
            Name = "n1", State = NodeState.Ready, Arch = "x86_64", Os = "linux",
            Capacity = new ResourceRequirement { Cpu = 8, Memory = 3435973837 },
            LastHeartbeatTime = now.ToUnixTimeMilliseconds() - 5_000,
        };
        var lines = Views.Nodes([node], false, now).ToString().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal("NAME  STATE  CPU  MEMORY   ARCH    OS     HEARTBEAT", lines[0]);
        Assert.Equal("n1    Ready  8    3.2 GiB  x86_64  linux  5s ago", lines[1]);
    }
}

public sealed class YamlWriterTests
{
    [Fact]
    public void Yaml_WritesNestedMappingsAndSequences_InBlockStyle()
    {
        var tree = new Dictionary<string, object?>
        {
            ["id"] = 3,
            ["name"] = "pi",
            ["empty"] = Array.Empty<string>(),
            ["missing"] = null,
            ["tasks"] = new Dictionary<string, object?> { ["pending"] = 1 },
            ["events"] = new[] { new Dictionary<string, object?> { ["code"] = 0, ["message"] = "a: b" }, new Dictionary<string, object?> { ["code"] = 2, ["message"] = null } },
            ["labels"] = new[] { "x", "true" },
        };
        Assert.Equal("""
            id: 3
            name: pi
            empty: []
            missing: null
            tasks:
              pending: 1
            events:
              - code: 0
                message: 'a: b'
              - code: 2
                message: null
            labels:
              - x
              - "true"

            """.ReplaceLineEndings("\n"), YamlWriter.Write(tree));
    }

    [Theory]
    [InlineData("plain", false)]
    [InlineData("", true)]
    [InlineData("123", true)]
    [InlineData("1e3", true)]
    [InlineData("0x1f", true)]
    [InlineData("yes", true)]
    [InlineData("Off", true)]
    [InlineData("~", true)]
    [InlineData(".inf", true)]
    [InlineData("1:30", true)]
    [InlineData("2026-11-29", true)]
    [InlineData("2026-11-29T18:06:58.123Z", true)]
    [InlineData("flmping-ab12cd", false)]
    public void Yaml_QuotesStrings_ThatAReaderWouldTakeForAnotherType(string value, bool quoted)
    {
        Assert.Equal(quoted, YamlWriter.LooksTyped(value));
        var yaml = YamlWriter.Write(new Dictionary<string, string> { ["v"] = value });
        Assert.Equal(quoted, yaml.StartsWith("v: \"", StringComparison.Ordinal));
    }

    [Fact]
    public void Yaml_OfASession_ReadsBackInPyYaml_AsTheJsonTree_TimesAsStrings()
    {
        var document = Views.Document(new SessionInfo
        {
            Id = "s-1",
            Spec = new SessionSpec { Application = "yes", CommonData = [1] },
            Status = new SessionStatus
            {
                CreationTime = 1_764_439_618_123, CompletionTime = 1_764_439_619_000,
                Events = [new FlameEvent { Code = 100, Message = "created: 1 #x", CreationTime = 1_764_439_618_123 }],
            },
        });
        // Debian's interpreter, where .ci/run installs python3-yaml; another python3 may come first on the PATH.
        var interpreter = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(interpreter,
            // A value PyYAML reads as another type than JSON's (a datetime for an ISO time) comes back as <its type>.
            ["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin), default=lambda v: '<' + type(v).__name__ + '>'))"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        python.StandardInput.Write(YamlWriter.Write(document));
        python.StandardInput.Close();
        var json = python.StandardOutput.ReadToEnd();
        var error = python.StandardError.ReadToEnd();
        Assert.True(python.WaitForExit(30_000), "python3 did not finish reading the YAML");
        Assert.True(python.ExitCode == 0, $"PyYAML could not read flmctl's YAML: {error}");
        var read = JsonNode.Parse(json)!;
        // The times, one by one: ISO strings that PyYAML would read as datetimes unless quoted.
        Assert.Equal("2025-11-29T18:06:58.123Z", read["creationTime"]!.GetValue<string>());
        Assert.Equal("2025-11-29T18:06:59.000Z", read["completionTime"]!.GetValue<string>());
        Assert.Equal("2025-11-29T18:06:58.123Z", read["events"]![0]!["time"]!.GetValue<string>());
        var expected = JsonNode.Parse(Flmctl.Json(document));
        Assert.True(JsonNode.DeepEquals(expected, read), $"PyYAML read back {json}, not {expected!.ToJsonString()}");
    }

    [Fact]
    public void Yaml_ReadsBackAsTheSameTree()
    {
        var document = Views.Document(new TaskInfo
        {
            Id = 2, SessionId = "s:1", State = TaskState.Succeed, Input = [1, 2], Output = "ok"u8.ToArray(), CreationTime = 1000, CompletionTime = 2000,
            Events = [new FlameEvent { Code = 0, CreationTime = 1000 }, new FlameEvent { Code = 2, Message = "done: 'x' #1", CreationTime = 2000 }],
        });
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        yaml.Load(new StringReader(YamlWriter.Write(document)));
        var root = (YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("s:1", root["sessionId"].ToString());
        Assert.Equal("ok", root["outputText"].ToString());
        Assert.Equal("AQI=", root["input"].ToString());
        var events = (YamlDotNet.RepresentationModel.YamlSequenceNode)root["events"];
        Assert.Equal("done: 'x' #1", events[1]["message"].ToString());
    }
}

public sealed class JsonViewTests
{
    [Fact]
    public void ApplicationDocument_KeepsEnvironmentNames_AsGiven_InJsonAndYaml()
    {
        var document = Views.Document(new ApplicationInfo
        {
            Name = "a",
            Spec = new ApplicationSpec { Environments = [new EnvironmentVariable { Name = "RUST_LOG", Value = "info" }, new EnvironmentVariable { Name = "Mixed_Case", Value = "1" }] },
        });
        var json = JsonNode.Parse(Flmctl.Json(document))!;
        Assert.Equal("info", json["environments"]!["RUST_LOG"]!.GetValue<string>());
        Assert.Equal("1", json["environments"]!["Mixed_Case"]!.GetValue<string>());
        Assert.True(json.AsObject().ContainsKey("workingDirectory"), "a property without a value is printed as null");
        var yaml = YamlWriter.Write(document);
        Assert.Contains("\n  RUST_LOG: info\n", yaml);
        Assert.Contains("\n  Mixed_Case: \"1\"\n", yaml);
        Assert.Contains("\nworkingDirectory: null\n", yaml);
    }

    [Fact]
    public void TaskTree_GivesSizesBase64AndPrintableOutput()
    {
        var tree = JsonNode.Parse(Flmctl.Json(Views.Document(new TaskInfo { Id = 1, SessionId = "s", State = TaskState.Succeed, Input = [0xff], Output = "42"u8.ToArray(), CreationTime = 1 })))!;
        Assert.Equal(1, tree["inputSize"]!.GetValue<int>());
        Assert.Equal("/w==", tree["input"]!.GetValue<string>());
        Assert.Equal(2, tree["outputSize"]!.GetValue<int>());
        Assert.Equal("42", tree["outputText"]!.GetValue<string>());
        Assert.Equal("Succeed", tree["state"]!.GetValue<string>());
    }
}

public sealed class TaskArgumentTests
{
    [Theory]
    [InlineData(null, "s1/7", "s1", 7L)]
    [InlineData(null, "a/b/3", "a/b", 3L)]
    [InlineData("s1", "7", "s1", 7L)]
    public void TaskIds_AreReadFromEitherForm(string? session, string task, string expectedSession, long expectedTask) =>
        Assert.Equal((expectedSession, expectedTask), Flmctl.ParseTask(session, task));

    [Theory]
    [InlineData(null, "7")]
    [InlineData(null, "s1/x")]
    [InlineData("s1", "s1/7")]
    [InlineData(null, "s1/0")]
    public void BadTaskIds_AreUsageErrors(string? session, string task) =>
        Assert.Throws<CliUsageException>(() => Flmctl.ParseTask(session, task));
}
