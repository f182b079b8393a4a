using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
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

    [Fact]
    public async Task FlamesJsonPing_IsAnswered_WithAPingResponse_AfterSleepingAndHoldingTheMemory()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.PingService);
        await service.WaitUntilReadyAsync();
        var client = service.CreateClient();
        Assert.Equal(0, (await client.OnSessionEnterAsync(new V1.SessionContext
        {
            SessionId = "flmping-abc123", Application = new V1.ApplicationContext { Name = "flmping" },
        }, ServiceProcess.Deadline())).ReturnCode);

        // What Flame's flmping sends with -d 300 -m 2MB (flame-head-behaviour.md §6.4).
        var clock = Stopwatch.StartNew();
        var result = await client.OnTaskInvokeAsync(new V1.TaskContext
        {
            SessionId = "flmping-abc123", TaskId = "1", Input = ByteString.CopyFromUtf8("""{"duration":300,"memory":2097152}"""),
        }, ServiceProcess.Deadline());
        var elapsed = clock.Elapsed;

        Assert.Equal(0, result.ReturnCode);
        var (ms, bytes) = Message(result.Output);
        Assert.Equal(2_097_152L, bytes);
        Assert.InRange(ms, 300, (long)elapsed.TotalMilliseconds);

        // Flame's flmping without -d and -m: both null.
        var empty = await client.OnTaskInvokeAsync(new V1.TaskContext
        {
            SessionId = "flmping-abc123", TaskId = "2", Input = ByteString.CopyFromUtf8("""{"duration":null,"memory":null}"""),
        }, ServiceProcess.Deadline());
        Assert.Equal(0L, Message(empty.Output).Bytes);
    }

    [Theory]
    [InlineData("ping")]
    [InlineData("[1, 2]")]
    [InlineData("{\"duration\": -1}")]
    [InlineData("{\"duration\": 1")]
    public async Task InputThatIsNotAPingRequest_IsEchoed(string input)
    {
        await using var service = ServiceProcess.Start(ServiceProcess.PingService);
        await service.WaitUntilReadyAsync();
        var client = service.CreateClient();
        await client.OnSessionEnterAsync(new V1.SessionContext { SessionId = "s", Application = new V1.ApplicationContext { Name = "flmping" } }, ServiceProcess.Deadline());

        var result = await client.OnTaskInvokeAsync(new V1.TaskContext { SessionId = "s", TaskId = "1", Input = ByteString.CopyFromUtf8(input) }, ServiceProcess.Deadline());

        Assert.Equal((0, input), (result.ReturnCode, result.Output.ToStringUtf8()));
    }

    /// <summary>The milliseconds and bytes of a PingResponse, which must be exactly Flame's JSON shape.</summary>
    private static (long Ms, long Bytes) Message(ByteString output)
    {
        using var doc = JsonDocument.Parse(output.Memory);
        var property = Assert.Single(doc.RootElement.EnumerateObject());
        Assert.Equal("message", property.Name);
        var match = Regex.Match(property.Value.GetString()!, "^Completed on <(.+)> in <([0-9]+)> milliseconds with <([0-9]+)> memory$");
        Assert.True(match.Success, $"not Flame's ping message: {property.Value.GetString()}");
        Assert.Equal(Environment.MachineName, match.Groups[1].Value);
        return (long.Parse(match.Groups[2].Value), long.Parse(match.Groups[3].Value));
    }
}
