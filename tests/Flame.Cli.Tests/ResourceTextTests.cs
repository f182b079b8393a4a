namespace Flame.Cli.Tests;

/// <summary>The CLI's resource text is <see cref="ResourceRequirements"/>' grammar, its errors usage errors naming the option.</summary>
public sealed class ResourceTextTests
{
    [Theory]
    [InlineData("10MB", 10UL << 20)]
    [InlineData(" 512k ", 512UL << 10)]
    [InlineData("1048576", 1048576UL)]
    public void TryParseSize_ReadsFlmpingsMemorySizes(string text, ulong bytes)
    {
        Assert.True(ResourceText.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Fact]
    public void TryParseSize_RefusesWhatIsNotASize() => Assert.False(ResourceText.TryParseSize("lots", out _));

    [Fact]
    public void ParseRequirement_GivesResourceRequirementsError_AsAUsageErrorNamingTheOption()
    {
        var error = Assert.Throws<CliUsageException>(() => ResourceText.ParseRequirement("disk=1", "--resreq"));

        Assert.Equal("--resreq: unknown key 'disk' in 'disk=1'; the keys are cpu, mem (or memory) and gpu", error.Message);
        Assert.Equal(new ResourceRequirement { Cpu = 2, Memory = 1UL << 30 }, ResourceText.ParseRequirement("cpu=2,mem=1g", "--resreq"));
    }
}
