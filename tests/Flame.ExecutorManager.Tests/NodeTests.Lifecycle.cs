using Flame.ExecutorManager.Tests.Support;
using Flame.V1;
using Xunit.Abstractions;

namespace Flame.ExecutorManager.Tests;

/// <summary><see cref="NodeTests"/>: slots, releases, reconnection and shutdown.</summary>
public partial class NodeTests
{
    [Fact]
    public async Task Node_RefusesAnExecutor_WhenEverySlotIsTaken()
    {
        await StartNodeAsync(o => o.Slots = 1);
        await Backend.WaitForAsync<RegisterNodeRequest>("RegisterNode");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<BindExecutorRequest>("BindExecutor", executorId: "e1");
        Backend.CreateExecutor("e2");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e2");

        Assert.Equal(["UnregisterExecutor"], Backend.CallsFor("e2"));
        Assert.Equal(["RegisterExecutor", "BindExecutor"], Backend.CallsFor("e1"));
    }

    [Fact]
    public async Task Executor_ReleasedWhileWaitingForWork_UnregistersAtOnce_AndFreesItsSlot()
    {
        await StartNodeAsync(o => o.Slots = 1);
        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<BindExecutorRequest>("BindExecutor", executorId: "e1");

        Backend.ReleaseExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");
        Backend.CreateExecutor("e2");
        await Backend.WaitForAsync<BindExecutorRequest>("BindExecutor", executorId: "e2");

        Assert.Equal(["RegisterExecutor", "BindExecutor", "UnregisterExecutor"], Backend.CallsFor("e1"));
    }

    [Fact]
    public async Task Executor_ReleasedWhileBound_FinishesItsBindingFirst()
    {
        await StartNodeAsync();
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<LaunchTaskRequest>("LaunchTask", executorId: "e1");

        Backend.ReleaseExecutor("e1");
        Backend.Launch("e1", "1", input: "echo:still here");
        Backend.Launch("e1", null);
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask", "LaunchTask",
             "UnbindExecutor", "UnbindExecutorCompleted", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
    }

    [Fact]
    public async Task Node_Reconnects_WhenTheWatchBreaks_WhileItsExecutorsKeepWorking()
    {
        await StartNodeAsync();
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<LaunchTaskRequest>("LaunchTask", executorId: "e1");

        Backend.BreakWatch();
        await Backend.WaitForCountAsync("RegisterNode", 2);
        await Backend.WaitForCountAsync("WatchNode", 2);
        Backend.Launch("e1", "1", input: "echo:still bound");

        var complete = await Backend.WaitForAsync<CompleteTaskRequest>("CompleteTask");
        Assert.Equal("still bound", complete.TaskResult.Output.ToStringUtf8());
        Assert.Equal(["RegisterNode", "WatchNode", "RegisterNode", "WatchNode"], Backend.Calls.Where(c => c.ExecutorId is null && c.Rpc != "Heartbeat").Select(c => c.Rpc));
        // The second registration says what runs on: a gateway that lost the node with a silo counts it again, and
        // one that did not does not take the executor for gone.
        var registrations = Backend.Calls.Where(c => c.Rpc == "RegisterNode").Select(c => (RegisterNodeRequest)c.Request).ToList();
        Assert.Empty(registrations[0].Executors);
        Assert.Equal(["e1"], registrations[1].Executors.Select(e => e.Metadata.Id));
        Assert.Equal(registrations[1].Node.Metadata.Name, registrations[1].Executors[0].Spec.Node);
    }

    [Fact]
    public async Task Executor_ReportsTheResourcesItWasOrderedWith_WhenItRegisters_AndWhenTheNodeRegistersAgain()
    {
        // Flame's default resreq (one core, 1 GiB): an executor that reported less would never be given its session's work.
        const ulong GiB = 1024 * 1024 * 1024;
        await StartNodeAsync();
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.CreateExecutor("e1", resreq: new ResourceRequirement { Cpu = 2, Memory = GiB });
        await Backend.WaitForAsync<LaunchTaskRequest>("LaunchTask", executorId: "e1");

        // As after a silo's death: the node registers again, listing what runs on.
        Backend.BreakWatch();
        await Backend.WaitForCountAsync("RegisterNode", 2);
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        var register = await Backend.WaitForAsync<RegisterExecutorRequest>("RegisterExecutor");
        Assert.Equal((2UL, GiB), (register.ExecutorSpec.Resreq.Cpu, register.ExecutorSpec.Resreq.Memory));
        var again = (RegisterNodeRequest)Backend.Calls.Where(c => c.Rpc == "RegisterNode").ElementAt(1).Request;
        var listed = Assert.Single(again.Executors);
        Assert.Equal((2UL, GiB), (listed.Spec.Resreq.Cpu, listed.Spec.Resreq.Memory));
    }

    [Fact]
    public async Task Shutdown_EndsTheBinding_StopsTheService_AndReleasesEverything()
    {
        var node = await StartNodeAsync();
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.Launch("e1", "1", input: "pid");
        Backend.Launch("e1", "2", input: "sleep:60000");
        Backend.CreateExecutor("e1");
        var pid = int.Parse((await Backend.WaitForAsync<CompleteTaskRequest>("CompleteTask")).TaskResult.Output.ToStringUtf8());
        await Backend.WaitForCountAsync("LaunchTask", 2, "e1");

        await node.StopAsync();

        Assert.False(Directory.Exists($"/proc/{pid}"), $"the service process {pid} should be gone");
        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask", "LaunchTask",
             "UnbindExecutor", "UnbindExecutorCompleted", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
        Assert.Equal("ReleaseNode", Backend.Calls[^1].Rpc);
    }
}

/// <summary><see cref="NodeTests"/> against a gateway that serves the BackendExt task stream without windows.</summary>
public sealed class NodeOverTaskStreamTests(ITestOutputHelper output) : NodeTests(output)
{
    protected override bool TaskStream => true;
}

/// <summary>
/// <see cref="NodeTests"/> against a gateway whose task stream grants task windows, as ours does: the executor
/// manager's production path (the windowed exchange, tasks given back, leaving when the service dies).
/// </summary>
public sealed class NodeOverTaskWindowTests(ITestOutputHelper output) : NodeTests(output)
{
    protected override bool TaskStream => true;

    protected override bool Windows => true;
}
