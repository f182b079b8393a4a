using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Flame.Service.Tests;

/// <summary>The service SDK seen from outside: flame-test-service as a real process, spoken to over its Unix socket.</summary>
public sealed class TestServiceTests(ITestOutputHelper output)
{
    private static V1.SessionContext Session(string id, byte[]? commonData = null)
    {
        var session = new V1.SessionContext
        {
            SessionId = id,
            Application = new V1.ApplicationContext { Name = "flame-test", Command = "dotnet" },
        };
        if (commonData is not null)
            session.CommonData = ByteString.CopyFrom(commonData);
        return session;
    }

    internal static V1.TaskContext Command(string sessionId, string taskId, string command) => new()
    {
        SessionId = sessionId,
        TaskId = taskId,
        Input = ByteString.CopyFromUtf8(command),
    };

    [Fact]
    public async Task EnterInvokeLeave_RoundTrips_AndDeliversCommonDataOnce()
    {
        var log = Path.Combine(Path.GetTempPath(), $"fst-log-{Guid.NewGuid():N}.txt");
        try
        {
            await using var service = ServiceProcess.Start(ServiceProcess.TestService,
                new Dictionary<string, string?> { ["FLAME_TEST_SERVICE_LOG"] = log });
            await service.WaitUntilReadyAsync();
            output.WriteLine($"flame-test-service: process start to socket ready in {service.StartUpTime.TotalMilliseconds:F0} ms");
            var client = service.CreateClient();

            var firstCall = Stopwatch.StartNew();
            var enter = await client.OnSessionEnterAsync(Session("s-1", "shared"u8.ToArray()), ServiceProcess.Deadline());
            output.WriteLine($"flame-test-service: first OnSessionEnter answered in {firstCall.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Equal(0, enter.ReturnCode);

            var echo = await client.OnTaskInvokeAsync(Command("s-1", "1", "echo:hello, flame"), ServiceProcess.Deadline());
            Assert.Equal(0, echo.ReturnCode);
            Assert.Equal("hello, flame", echo.Output.ToStringUtf8());

            var common = await client.OnTaskInvokeAsync(Command("s-1", "2", "common"), ServiceProcess.Deadline());
            Assert.Equal("shared", common.Output.ToStringUtf8());

            var pid = await client.OnTaskInvokeAsync(Command("s-1", "3", "pid"), ServiceProcess.Deadline());
            Assert.Equal(service.Id.ToString(), pid.Output.ToStringUtf8());

            var count = await client.OnTaskInvokeAsync(Command("s-1", "4", "count"), ServiceProcess.Deadline());
            Assert.Equal("4", count.Output.ToStringUtf8());

            var slept = await client.OnTaskInvokeAsync(Command("s-1", "5", "sleep:10"), ServiceProcess.Deadline());
            Assert.Equal("slept", slept.Output.ToStringUtf8());

            var leave = await client.OnSessionLeaveAsync(new V1.EmptyRequest(), ServiceProcess.Deadline());
            Assert.Equal(0, leave.ReturnCode);

            // SIGTERM stops it cleanly: exit code 0, socket removed, nothing on stdout.
            service.Terminate();
            Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            Assert.False(File.Exists(service.SocketPath), "expected the socket file to be removed on exit");
            Assert.Equal("", service.StandardOutput);

            Assert.Equal(["enter s-1 6", "invoke 1", "invoke 2", "invoke 3", "invoke 4", "invoke 5", "leave"], File.ReadAllLines(log));
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task FailCommand_ReturnsItsMessageWithNonZeroCode_AndTheServiceKeepsServing()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService);
        await service.WaitUntilReadyAsync();
        var client = service.CreateClient();
        Assert.Equal(0, (await client.OnSessionEnterAsync(Session("s-2"), ServiceProcess.Deadline())).ReturnCode);

        var failed = await client.OnTaskInvokeAsync(Command("s-2", "1", "fail:the input was wrong"), ServiceProcess.Deadline());
        Assert.NotEqual(0, failed.ReturnCode);
        Assert.Equal("the input was wrong", failed.Message);
        Assert.False(failed.HasOutput);

        var thrown = await client.OnTaskInvokeAsync(Command("s-2", "2", "throw:boom"), ServiceProcess.Deadline());
        Assert.Equal(1, thrown.ReturnCode);
        Assert.Equal("InvalidOperationException: boom", thrown.Message);

        var echo = await client.OnTaskInvokeAsync(Command("s-2", "3", "echo:still here"), ServiceProcess.Deadline());
        Assert.Equal(0, echo.ReturnCode);
        Assert.Equal("still here", echo.Output.ToStringUtf8());
        Assert.Equal("", service.StandardOutput);
    }

    [Fact]
    public async Task Crash_FailsTheCall_AndTheProcessExitsWith42()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService);
        await service.WaitUntilReadyAsync();
        var client = service.CreateClient();
        Assert.Equal(0, (await client.OnSessionEnterAsync(Session("s-3"), ServiceProcess.Deadline())).ReturnCode);

        await Assert.ThrowsAsync<RpcException>(async () =>
            await client.OnTaskInvokeAsync(Command("s-3", "1", "crash"), ServiceProcess.Deadline()));
        Assert.Equal(42, await service.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task FailEnter_ReturnsANonZeroResult()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService,
            new Dictionary<string, string?> { ["FLAME_TEST_SERVICE_FAIL_ENTER"] = "1" });
        await service.WaitUntilReadyAsync();

        var enter = await service.CreateClient().OnSessionEnterAsync(Session("s-4"), ServiceProcess.Deadline());
        Assert.Equal(3, enter.ReturnCode);
        Assert.Contains("FLAME_TEST_SERVICE_FAIL_ENTER", enter.Message);
    }

    [Fact]
    public async Task MissingInstanceEndpoint_ExitsWith2AndOneLineOnStandardError()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService,
            new Dictionary<string, string?> { ["FLAME_INSTANCE_ENDPOINT"] = null });

        Assert.Equal(2, await service.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var lines = service.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("flame-test-service: FLAME_INSTANCE_ENDPOINT is not set", line);
        Assert.Equal("", service.StandardOutput);
    }

    [Fact]
    public async Task StaleFileAtTheSocketPath_IsReplaced()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService,
            prepare: socketPath => File.WriteAllText(socketPath, "left over by a killed process"));
        await service.WaitUntilReadyAsync();

        var echo = await service.CreateClient().OnTaskInvokeAsync(Command("s-5", "1", "echo:fresh"), ServiceProcess.Deadline());
        Assert.Equal("fresh", echo.Output.ToStringUtf8());
    }

    [Fact]
    public async Task InvokeTasks_AnswersEachTaskOfTheStream_InOrder_AsOnTaskInvokeWould()
    {
        var log = Path.Combine(Path.GetTempPath(), $"fst-log-{Guid.NewGuid():N}.txt");
        try
        {
            await using var service = ServiceProcess.Start(ServiceProcess.TestService,
                new Dictionary<string, string?> { ["FLAME_TEST_SERVICE_LOG"] = log });
            await service.WaitUntilReadyAsync();
            var client = service.CreateClient();
            Assert.Equal(0, (await client.OnSessionEnterAsync(Session("s-6", "shared"u8.ToArray()), ServiceProcess.Deadline())).ReturnCode);

            using (var stream = service.CreateExtClient().InvokeTasks(ServiceProcess.Deadline()))
            {
                async Task<V1.TaskResult> Next(string taskId, string command)
                {
                    await stream.RequestStream.WriteAsync(Command("s-6", taskId, command));
                    Assert.True(await stream.ResponseStream.MoveNext(), $"expected an answer to task {taskId}");
                    return stream.ResponseStream.Current;
                }

                var echo = await Next("1", "echo:over the stream");
                Assert.Equal(0, echo.ReturnCode);
                Assert.Equal("over the stream", echo.Output.ToStringUtf8());
                Assert.Equal("shared", (await Next("2", "common")).Output.ToStringUtf8());
                // A failed task is a result on the stream, not the end of it.
                var failed = await Next("3", "fail:wrong input");
                Assert.Equal(1, failed.ReturnCode);
                Assert.Equal("wrong input", failed.Message);
                var thrown = await Next("4", "throw:boom");
                Assert.Equal("InvalidOperationException: boom", thrown.Message);
                Assert.Equal("5", (await Next("5", "count")).Output.ToStringUtf8());

                await stream.RequestStream.CompleteAsync();
                Assert.False(await stream.ResponseStream.MoveNext(), "expected the stream to end after the last task");
                Assert.Equal(StatusCode.OK, stream.GetStatus().StatusCode);
            }

            // The unary call and the stream share one service: the count goes on.
            Assert.Equal("6", (await client.OnTaskInvokeAsync(Command("s-6", "6", "count"), ServiceProcess.Deadline())).Output.ToStringUtf8());
            Assert.Equal(0, (await client.OnSessionLeaveAsync(new V1.EmptyRequest(), ServiceProcess.Deadline())).ReturnCode);
            Assert.Equal(["enter s-6 6", "invoke 1", "invoke 2", "invoke 3", "invoke 4", "invoke 5", "invoke 6", "leave"], File.ReadAllLines(log));
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task InvokeTasks_SendsHeadersMarkedAsTheTaskStream_BeforeAnyTask()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService);
        await service.WaitUntilReadyAsync();

        // What the executor manager waits for, sending nothing, before it trusts the stream with a task.
        using var stream = service.CreateExtClient().InvokeTasks(ServiceProcess.Deadline());
        var headers = await stream.ResponseHeadersAsync.WaitAsync(Wait.Scaled(TimeSpan.FromSeconds(30)));
        Assert.Equal(V1.TaskStreamProtocol.Value, headers.GetValue(V1.TaskStreamProtocol.Header));
        await stream.RequestStream.WriteAsync(Command("s-9", "1", "echo:after the headers"));
        Assert.True(await stream.ResponseStream.MoveNext(), "expected an answer to task 1");
        Assert.Equal("after the headers", stream.ResponseStream.Current.Output.ToStringUtf8());
    }

    [Fact]
    public async Task InvokeTasks_IsUnimplemented_WhenTheTaskStreamIsTurnedOff_AndOnTaskInvokeStillServes()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService, arguments: ["--Flame:Service:TaskStream=false"]);
        await service.WaitUntilReadyAsync();

        using (var stream = service.CreateExtClient().InvokeTasks(ServiceProcess.Deadline()))
        {
            await stream.RequestStream.WriteAsync(Command("s-7", "1", "echo:never run"));
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await stream.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        }
        var echo = await service.CreateClient().OnTaskInvokeAsync(Command("s-7", "2", "echo:unary"), ServiceProcess.Deadline());
        Assert.Equal("unary", echo.Output.ToStringUtf8());
    }

    [Fact]
    public async Task InvokeTasks_Crash_FailsTheStream_AndTheProcessExitsWith42()
    {
        await using var service = ServiceProcess.Start(ServiceProcess.TestService);
        await service.WaitUntilReadyAsync();

        using var stream = service.CreateExtClient().InvokeTasks(ServiceProcess.Deadline());
        await stream.RequestStream.WriteAsync(Command("s-8", "1", "crash"));
        // The stream breaks (the caller sees an RpcException), never an answer.
        var broken = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            var answered = await stream.ResponseStream.MoveNext();
            Assert.Fail(answered ? $"expected no answer from a crashed service, got {stream.ResponseStream.Current}" : "expected the stream to fail, not to end");
        });
        Assert.NotEqual(StatusCode.OK, broken.StatusCode);
        Assert.Equal(42, await service.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }
}
