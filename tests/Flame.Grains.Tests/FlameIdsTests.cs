namespace Flame.Grains.Tests;

public sealed class FlameIdsTests
{
    [Theory]
    [InlineData("pi")]
    [InlineData("flm.ping_2-x")]
    [InlineData("...")]
    [InlineData(".hidden")]
    public void ValidNames_AreAccepted(string name) => Assert.Equal(name, FlameIds.ValidateApplicationName(name));

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("a b", "' ' at 1")]
    [InlineData("ü", "'ü' at 0")]
    [InlineData(".", "'.' is reserved")]
    [InlineData("..", "'..' is reserved")]
    [InlineData("../etc", "'/' at 2")]
    [InlineData("a\nb", "'a\\nb' has the character '\\n' at 1")]
    public void InvalidNames_AreRefused_WithTheReason(string name, string reason)
    {
        var ex = Assert.Throws<FlameException>(() => FlameIds.ValidateSessionId(name));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void OverlongNames_AreRefused()
    {
        var ex = Assert.Throws<FlameException>(() => FlameIds.ValidateApplicationName(new string('a', 254)));
        Assert.Contains("limit is 253", ex.Message);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("1234567", 1234567)]
    public void TaskIds_AreDecimal(string text, long expected) => Assert.Equal(expected, FlameIds.ParseTaskId(text));

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("+3")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999999")]
    public void MalformedTaskIds_AreRefused(string text)
    {
        var ex = Assert.Throws<FlameException>(() => FlameIds.ParseTaskId(text));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void NewSessionIds_AreValid_AndDistinct()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => FlameIds.NewSessionId("pi")).ToHashSet();
        Assert.Equal(1000, ids.Count);
        Assert.All(ids, id => Assert.StartsWith("pi-", FlameIds.ValidateSessionId(id)));
    }
}
