using Google.Protobuf;

namespace Flame.Service.Tests;

/// <summary>The Pi sample's service as a real process, so that the sample cannot rot unnoticed.</summary>
public sealed class PiServiceTests
{
    [Fact]
    public async Task Pi_CountsHitsInsideTheQuarterCircle_AndRejectsABadInput()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.PiService);
        await service.WaitUntilReadyAsync();
        var client = service.CreateClient();

        const int samples = 200_000;
        var result = await client.OnTaskInvokeAsync(
            new V1.TaskContext { SessionId = "pi-1", TaskId = "1", Input = ByteString.CopyFromUtf8(samples.ToString()) }, ServiceProcess.Deadline());
        Assert.Equal(0, result.ReturnCode);
        var hits = long.Parse(result.Output.ToStringUtf8());
        // The estimate's standard deviation is about 0.004 here: 0.05 is more than 10 of them.
        Assert.InRange(4.0 * hits / samples, Math.PI - 0.05, Math.PI + 0.05);

        var bad = await client.OnTaskInvokeAsync(
            new V1.TaskContext { SessionId = "pi-1", TaskId = "2", Input = ByteString.CopyFromUtf8("many") }, ServiceProcess.Deadline());
        Assert.Equal(1, bad.ReturnCode);
        Assert.Contains("'many'", bad.Message);
    }
}
