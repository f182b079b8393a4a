using Flame.ExecutorManager.Nodes;

namespace Flame.ExecutorManager.Tests;

public sealed class NodeDescriptionTests
{
    [Fact]
    public void CreateNode_DescribesTheNode_AsTheGatewayExpects()
    {
        var description = new NodeDescription("node-1", "host-1", slots: 3, cores: 4, memoryBytes: 8L << 30);

        var node = description.CreateNode(1_700_000_000_123);

        Assert.Equal("node-1", node.Metadata.Id);
        Assert.Equal("node-1", node.Metadata.Name);
        Assert.Equal("host-1", node.Spec.Hostname);
        Assert.Equal(V1.NodeState.Ready, node.Status.State);
        Assert.Equal(4UL, node.Status.Capacity.Cpu);
        Assert.Equal(8UL << 30, node.Status.Capacity.Memory);
        Assert.Equal(3UL, node.Status.Allocatable.Cpu);
        Assert.Equal(8UL << 30, node.Status.Allocatable.Memory);
        Assert.Equal("linux", node.Status.Info.Os);
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(), node.Status.Info.Arch);
        var address = Assert.Single(node.Status.Addresses);
        Assert.Equal("Hostname", address.Type);
        Assert.Equal("host-1", address.Address);
        Assert.Equal(1_700_000_000_123, node.Status.LastHeartbeatTime);
    }

    [Theory]
    [InlineData("MemTotal:       24576000 kB", 24576000UL * 1024)]
    [InlineData("MemTotal: 1024", 1024UL)]
    [InlineData("MemFree:        1000 kB", null)]
    [InlineData("MemTotal:", null)]
    public void ParseMemTotal_ReadsTheMemTotalLine(string line, ulong? bytes)
    {
        Assert.Equal(bytes, NodeDescription.ParseMemTotal(line));
    }

    [Fact]
    public void ReadTotalMemory_FindsSomeMemory()
    {
        Assert.True(NodeDescription.ReadTotalMemory() > 0);
    }
}
