using Flame.Grains.Applications;
using Flame.Grains.Hosting;

namespace Flame.Grains.Tests;

public sealed class ApplicationFieldsTests
{
    private static readonly FlameLimitsOptions Limits = new()
    {
        MaxApplicationDescriptionBytes = 8,
        MaxApplicationLabels = 2,
        MaxApplicationLabelBytes = 4,
        MaxApplicationArguments = 2,
        MaxApplicationArgumentsBytes = 6,
        MaxApplicationEnvironments = 2,
        MaxApplicationEnvironmentBytes = 6,
        MaxApplicationFieldBytes = 8,
        MaxApplicationSchemaBytes = 5,
    };

    private static readonly ApplicationSpec Valid = new() { Command = "/bin/x" };

    private static FlameException Refused(ApplicationSpec spec)
    {
        var ex = Assert.Throws<FlameException>(() => ApplicationFields.Validate("pi", spec, Limits));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith("application 'pi': ", ex.Message);
        return ex;
    }

    [Fact]
    public void ASpecWithEveryFieldAtItsLimit_IsAccepted() =>
        ApplicationFields.Validate("pi", new ApplicationSpec
        {
            Shim = Shim.Wasm,
            Description = "12345678",
            Labels = ["abcd", "é12"], // é is two bytes in UTF-8
            Command = "/bin/abc",
            Arguments = ["a\tb", "c\nd"],
            Environments = [new EnvironmentVariable { Name = "AB", Value = "c\r\nd" }],
            WorkingDirectory = "/tmp/abc",
            Image = "img:1234",
            Url = "http://x",
            Installer = "tar",
            Schema = new ApplicationSchema { Input = "12345", Output = "12345", CommonData = "12345" },
        }, Limits);

    public static TheoryData<string, ApplicationSpec, string> Oversized => new()
    {
        { "description", Valid with { Description = "123456789" }, "description is 9 bytes; the limit is 8 (Flame:Limits:MaxApplicationDescriptionBytes)" },
        { "description in UTF-8 bytes", Valid with { Description = "éééé1" }, "description is 9 bytes" },
        { "labels", Valid with { Labels = ["a", "b", "c"] }, "has 3 labels; the limit is 2 (Flame:Limits:MaxApplicationLabels)" },
        { "label", Valid with { Labels = ["a", "abcde"] }, "label 1 is 5 bytes; the limit is 4 (Flame:Limits:MaxApplicationLabelBytes)" },
        { "arguments", Valid with { Arguments = ["a", "b", "c"] }, "has 3 arguments; the limit is 2 (Flame:Limits:MaxApplicationArguments)" },
        { "argument bytes", Valid with { Arguments = ["abc", "defg"] }, "its arguments are 7 bytes together; the limit is 6 (Flame:Limits:MaxApplicationArgumentsBytes)" },
        { "environments", Valid with { Environments = [Var("A"), Var("B"), Var("C")] }, "has 3 environment variables; the limit is 2 (Flame:Limits:MaxApplicationEnvironments)" },
        { "environment bytes", Valid with { Environments = [Var("AB", "cd"), Var("E", "fg")] }, "its environment variables are 7 bytes together; the limit is 6 (Flame:Limits:MaxApplicationEnvironmentBytes)" },
        { "command", Valid with { Command = "/bin/abcd" }, "command is 9 bytes; the limit is 8 (Flame:Limits:MaxApplicationFieldBytes)" },
        { "working_directory", Valid with { WorkingDirectory = "/tmp/abcd" }, "working_directory is 9 bytes" },
        { "image", Valid with { Image = "123456789" }, "image is 9 bytes" },
        { "url", Valid with { Url = "http://xy" }, "url is 9 bytes" },
        { "installer", Valid with { Installer = "123456789" }, "installer is 9 bytes" },
        { "schema", Valid with { Schema = new ApplicationSchema { CommonData = "123456" } }, "schema.common_data is 6 bytes; the limit is 5 (Flame:Limits:MaxApplicationSchemaBytes)" },
    };

    [Theory]
    [MemberData(nameof(Oversized))]
    public void AFieldOverItsLimit_IsRefused_NamingTheFieldTheSizeAndTheKey(string field, ApplicationSpec spec, string message)
    {
        _ = field;
        Assert.Contains(message, Refused(spec).Message);
    }

    public static TheoryData<string, ApplicationSpec, string> ControlCharacters => new()
    {
        { "NUL in the command", Valid with { Command = "/bin\0" }, "command has the control character U+0000 at 4" },
        { "tab in the command", Valid with { Command = "/bin\tx" }, "command has the control character U+0009 at 4" },
        { "newline in a label", Valid with { Labels = ["a\nb"] }, "label 0 has the control character U+000A at 1" },
        { "escape in a variable name", Valid with { Environments = [Var("A\u001b")] }, "the name of environment variable 0 has the control character U+001B at 1" },
        { "NUL in a variable value", Valid with { Environments = [Var("A", "\0")] }, "the value of environment variable 0 (A) has the control character U+0000 at 0" },
        { "NUL in an argument", Valid with { Arguments = ["\0"] }, "argument 0 has the control character U+0000 at 0; only tab, line feed and carriage return are allowed there" },
        { "bidi override in the working directory", Valid with { WorkingDirectory = "/\u202e" }, "working_directory has the control character U+202E at 1" },
        { "escape in the description", Valid with { Description = "\u001b[0m" }, "description has the control character U+001B at 0" },
        { "C1 control in the schema", Valid with { Schema = new ApplicationSchema { Input = "\u0085" } }, "schema.input has the control character U+0085 at 0" },
        { "DEL in the url", Valid with { Url = "http\u007f" }, "url has the control character U+007F at 4" },
    };

    [Theory]
    [MemberData(nameof(ControlCharacters))]
    public void AControlCharacter_IsRefused_NamingTheFieldTheCharacterAndWhereItIs(string where, ApplicationSpec spec, string message)
    {
        _ = where;
        var ex = Refused(spec);
        Assert.Contains(message, ex.Message);
        Assert.Equal(-1, LogText.IndexOfEscaped(ex.Message)); // the refusal itself carries no control character
    }

    [Theory]
    [InlineData("", "environment variable 0 has no name")]
    [InlineData("A=B", "environment variable 0 'A=B' has '=' in its name")]
    public void AMalformedVariableName_IsRefused(string name, string message) =>
        Assert.Contains(message, Refused(Valid with { Environments = [Var(name)] }).Message);

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    public void AShimTheProtocolDoesNotKnow_IsRefused(int shim) =>
        Assert.Contains($"shim {shim} is unknown; known are Host (0) and Wasm (1)", Refused(Valid with { Shim = (Shim)shim }).Message);

    private static EnvironmentVariable Var(string name, string value = "") => new() { Name = name, Value = value };
}
