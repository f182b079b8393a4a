using Microsoft.Extensions.Logging;

namespace Flame.Grains.Tests;

public sealed partial class LogTextTests
{
    [Theory]
    [InlineData("line\nforged: admin logged in", "line\\nforged: admin logged in")]
    [InlineData("a\r\nb\tc", "a\\r\\nb\\tc")]
    [InlineData("nul\0end", "nul\\u0000end")]
    [InlineData("\u001b[2Jcleared", "\\u001B[2Jcleared")]
    [InlineData("del\u007f c1\u0085", "del\\u007F c1\\u0085")]
    [InlineData("exe.\u202Etxt", "exe.\\u202Etxt")]
    [InlineData("sep\u2028arator", "sep\\u2028arator")]
    public void ControlAndReorderingCharacters_AreEscaped(string text, string expected) =>
        Assert.Equal(expected, LogText.Escape(text));

    [Fact]
    public void PlainText_IsReturnedAsItIs()
    {
        const string text = "session pi-3fk2 of application pi: éèü 😀 / \\ \" '";
        Assert.Same(text, LogText.Escape(text));
    }

    [Fact]
    public void NullAndEmpty_AreWrittenEmpty()
    {
        Assert.Equal("", LogText.Escape(null));
        Assert.Equal("", new LogText(null).ToString());
    }

    [Fact]
    public void LongText_IsCut_WithTheNumberOfCharactersLeftOut()
    {
        var text = new string('a', 10) + "\n" + new string('b', 20);
        Assert.Equal("aaaaaaaaaa\\nbbbb… (16 more characters)", LogText.Escape(text, 15));
    }

    [Fact]
    public void ASurrogatePair_IsNeverCutInTwo()
    {
        var text = "abcd😀efgh"; // the emoji is chars 4 and 5
        Assert.Equal("abcd… (6 more characters)", LogText.Escape(text, 5));
    }

    [Fact]
    public void TheIndexOfTheFirstEscapedCharacter_IsFound()
    {
        Assert.Equal(3, LogText.IndexOfEscaped("abc\ndef"));
        Assert.Equal(-1, LogText.IndexOfEscaped("abc def é"));
    }

    [Fact]
    public void ALoggerMessageParameterOfTypeLogText_IsEscapedInTheWrittenLine()
    {
        var logger = new CapturingLogger();

        LogReason(logger, "failed\nINFO fake line\u001b[31m");

        Assert.Equal("Executor e1: failed\\nINFO fake line\\u001B[31m", Assert.Single(logger.Lines));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Executor e1: {Reason}")]
    private static partial void LogReason(ILogger logger, LogText reason);

    private sealed class CapturingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
