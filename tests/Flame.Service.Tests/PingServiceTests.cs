using Google.Protobuf;
using Xunit.Abstractions;

namespace Flame.Service.Tests;

/// <summary>flmping-service, the built-in no-op service, as a real process.</summary>
public sealed class PingServiceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ping_ReturnsTheInputAsOutput_SmallAndLarge()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.PingService);
        await service.WaitUntilReadyAsync();
        output.WriteLine($"flmping-service: process start to socket ready in {service.StartUpTime.TotalMilliseconds:F0} ms");
        var client = service.CreateClient();

        // Larger than gRPC's default 4 MiB limit, like the largest common data the session manager accepts.
        var commonData = new byte[16 * 1024 * 1024];
        Random.Shared.NextBytes(commonData);
        var enter = await client.OnSessionEnterAsync(new V1.SessionContext
        {
            SessionId = "ping-1",
            Application = new V1.ApplicationContext { Name = "flmping" },
            CommonData = ByteString.CopyFrom(commonData),
        }, ServiceProcess.Deadline());
        Assert.Equal(0, enter.ReturnCode);

        var small = await client.OnTaskInvokeAsync(
            new V1.TaskContext { SessionId = "ping-1", TaskId = "1", Input = ByteString.CopyFromUtf8("ping") }, ServiceProcess.Deadline());
        Assert.Equal(0, small.ReturnCode);
        Assert.Equal("ping", small.Output.ToStringUtf8());

        var none = await client.OnTaskInvokeAsync(new V1.TaskContext { SessionId = "ping-1", TaskId = "2" }, ServiceProcess.Deadline());
        Assert.Equal(0, none.ReturnCode);
        Assert.False(none.HasOutput);

        var large = commonData.AsSpan(0, 8 * 1024 * 1024).ToArray();
        var echoed = await client.OnTaskInvokeAsync(
            new V1.TaskContext { SessionId = "ping-1", TaskId = "3", Input = ByteString.CopyFrom(large) }, ServiceProcess.Deadline());
        Assert.Equal(0, echoed.ReturnCode);
        Assert.True(echoed.Output.Span.SequenceEqual(large), "expected the 8 MiB output to equal the input");

        Assert.Equal(0, (await client.OnSessionLeaveAsync(new V1.EmptyRequest(), ServiceProcess.Deadline())).ReturnCode);
    }
}
