namespace Flame.Grains.Tests;

/// <summary>Flame's resource requirement strings (<c>cluster.resreq</c>, <c>flmctl create -r</c>): cpu in cores.</summary>
public sealed class ResourceRequirementsTests
{
    [Theory]
    [InlineData("cpu=2,mem=4g,gpu=1", 2UL, 4UL << 30, 1)]
    [InlineData("cpu=1,mem=1g", 1UL, 1UL << 30, 0)]
    [InlineData(" CPU = 3 , Memory = 512Mi ", 3UL, 512UL << 20, 0)]
    [InlineData("mem=10", 0UL, 10UL, 0)]
    [InlineData("mem=2kb", 0UL, 2048UL, 0)]
    [InlineData("mem=1KiB", 0UL, 1024UL, 0)]
    [InlineData("mem=3B", 0UL, 3UL, 0)]
    [InlineData("mem=1t", 0UL, 1UL << 40, 0)]
    [InlineData("mem=1pib", 0UL, 1UL << 50, 0)]
    [InlineData("gpu=8", 0UL, 0UL, 8)]
    public void Parse_ReadsFlamesSyntax_WithCpuInCores(string text, ulong cpu, ulong memory, int gpu) =>
        Assert.Equal(new ResourceRequirement { Cpu = cpu, Memory = memory, Gpu = gpu }, ResourceRequirements.Parse(text));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("cpu=1,", "empty entry")]
    [InlineData("cpu=1,,mem=1g", "empty entry")]
    [InlineData("cpu", "not key=value")]
    [InlineData("cpu=", "not key=value")]
    [InlineData("cpu=1=2", "not key=value")]
    [InlineData("disk=1g", "unknown key 'disk'")]
    [InlineData("cpu=500m", "cpu '500m'")]
    [InlineData("cpu=1.5", "cpu '1.5'")]
    [InlineData("cpu=-1", "cpu '-1'")]
    [InlineData("mem=4x", "memory '4x'")]
    [InlineData("mem=g", "memory 'g'")]
    [InlineData("mem=99999999999p", "memory '99999999999p'")]
    [InlineData("gpu=one", "gpu 'one'")]
    public void Parse_RefusesWhatFlameRefuses_SayingWhat(string text, string mention)
    {
        var error = Assert.Throws<FormatException>(() => ResourceRequirements.Parse(text));
        Assert.Contains(mention, error.Message);
    }

    [Theory]
    [InlineData(1UL, 1UL << 30, 0, "cpu=1,mem=1Gi,gpu=0")]
    [InlineData(2UL, 512UL << 20, 1, "cpu=2,mem=512Mi,gpu=1")]
    [InlineData(0UL, 3UL << 10, 0, "cpu=0,mem=3Ki,gpu=0")]
    [InlineData(0UL, 1000UL, 0, "cpu=0,mem=1000B,gpu=0")]
    [InlineData(0UL, 0UL, 0, "cpu=0,mem=0B,gpu=0")]
    public void Format_WritesFlamesView_ThatParsesBack(ulong cpu, ulong memory, int gpu, string expected)
    {
        var value = new ResourceRequirement { Cpu = cpu, Memory = memory, Gpu = gpu };
        Assert.Equal(expected, ResourceRequirements.Format(value));
        Assert.Equal(value, ResourceRequirements.Parse(expected));
    }
}
