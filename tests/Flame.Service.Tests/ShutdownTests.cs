using Grpc.Core;

namespace Flame.Service.Tests;

/// <summary>Stopping a service process: its own class so that its wait overlaps with the other tests.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Sigterm_DuringAHungTask_StillStopsTheProcess()
    {
        var log = Path.Combine(Path.GetTempPath(), $"fst-log-{Guid.NewGuid():N}.txt");
        try
        {
            await using var service = ServiceProcess.Start(ServiceProcess.TestService,
                new Dictionary<string, string?> { ["FLAME_TEST_SERVICE_LOG"] = log });
            await service.WaitUntilReadyAsync();
            using var hang = service.CreateClient().OnTaskInvokeAsync(TestServiceTests.Command("s-6", "1", "hang"), ServiceProcess.Deadline());
            await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("invoke 1"),
                "the service to log 'invoke 1' for the hanging task", TimeSpan.FromSeconds(30));

            service.Terminate();
            Assert.Equal(0, await service.WaitForExitAsync(FlameServiceHost.ShutdownTimeout + TimeSpan.FromSeconds(10)));
            await Assert.ThrowsAsync<RpcException>(async () => await hang);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task Sigterm_CancelsTheTokenOfARunningTask()
    {
        var log = Path.Combine(Path.GetTempPath(), $"fst-log-{Guid.NewGuid():N}.txt");
        try
        {
            await using var service = ServiceProcess.Start(ServiceProcess.TestService,
                new Dictionary<string, string?> { ["FLAME_TEST_SERVICE_LOG"] = log });
            await service.WaitUntilReadyAsync();
            using var sleep = service.CreateClient().OnTaskInvokeAsync(TestServiceTests.Command("s-7", "1", "sleep:600000"), ServiceProcess.Deadline());
            await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("invoke 1"),
                "the service to log 'invoke 1' for the sleeping task", TimeSpan.FromSeconds(30));

            service.Terminate();
            // The sleep honours its token: it ends at once with a failed result, which is still delivered.
            var result = await sleep;
            Assert.Equal(1, result.ReturnCode);
            Assert.StartsWith("TaskCanceledException:", result.Message);
            Assert.Equal(0, await service.WaitForExitAsync(FlameServiceHost.ShutdownTimeout + TimeSpan.FromSeconds(10)));
        }
        finally
        {
            File.Delete(log);
        }
    }
}
