using System.Reflection;
using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Tests.Support;
using Flame.V1;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Flame.ExecutorManager.Tests;

/// <summary>
/// A real node (the executor manager, in-process) against a fake gateway (a real Kestrel gRPC server), running real
/// service processes: <c>flame-test-service</c> (tests/Flame.TestService) and shell scripts. The gateway serves the
/// standard <c>flame.v1.Backend</c> only, as Flame's own does; <see cref="NodeOverTaskStreamTests"/> runs the same
/// tests against one that also serves the BackendExt task stream.
/// </summary>
public partial class NodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Whether the fake gateway serves BackendExt.CompleteAndLaunchTasks.</summary>
    protected virtual bool TaskStream => false;

    /// <summary>Whether the fake gateway's task stream grants task windows, as ours does.</summary>
    protected virtual bool Windows => false;

    private static string TestServicePath => TestNodes.TestServicePath;

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("flame-em-");
    private readonly List<IHost> _nodes = [];
    private FakeGateway _gateway = null!;

    private FakeBackend Backend => _gateway.Backend;

    private string ServiceLog => Path.Combine(_work.FullName, "test-service.log");

    public async Task InitializeAsync() => _gateway = await FakeGateway.StartAsync(TaskStream, Windows);

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.StopAsync(TimeSpan.FromSeconds(10));
            node.Dispose();
        }
        // Whichever way the tasks went, it was the way this class names.
        var launched = Backend.Calls.Any(c => c.Rpc == "LaunchTask");
        Assert.True(!launched || (Backend.TaskStreams > 0) == TaskStream,
            $"expected the tasks to go {(TaskStream ? "over the task stream" : "through LaunchTask and CompleteTask")}; streams opened: {Backend.TaskStreams}");
        // Results went in windows exactly when the gateway granted them.
        var completed = Backend.Calls.Any(c => c.Rpc == "CompleteTask");
        Assert.True(!completed || (Backend.WindowedExchanges > 0) == Windows,
            $"expected the results to go {(Windows ? "in windowed exchanges" : "one task at a time")}; windowed exchanges: {Backend.WindowedExchanges}");
        // Every result on the stream names the launch its task came with.
        Assert.DoesNotContain(0UL, Backend.CompletionLaunches);
        await _gateway.DisposeAsync();
        _work.Delete(recursive: true);
    }

    [Fact]
    public async Task Node_Registers_Heartbeats_AndIsReleasedOnShutdown()
    {
        var node = await StartNodeAsync(o => o.Slots = 3);

        var register = await Backend.WaitForAsync<RegisterNodeRequest>("RegisterNode");
        await Backend.WaitForCountAsync("Heartbeat", 3);
        await node.StopAsync();

        Assert.Equal("node-a", register.Node.Metadata.Id);
        Assert.Equal("node-a", register.Node.Metadata.Name);
        Assert.Equal(NodeState.Ready, register.Node.Status.State);
        Assert.Equal(3UL, register.Node.Status.Allocatable.Cpu);
        Assert.Equal((ulong)System.Environment.ProcessorCount, register.Node.Status.Capacity.Cpu);
        Assert.Empty(register.Executors);
        var heartbeat = await Backend.WaitForAsync<WatchNodeRequest>("Heartbeat");
        Assert.Equal("node-a", heartbeat.Heartbeat.NodeName);
        Assert.Equal(3UL, heartbeat.Heartbeat.Status.Allocatable.Cpu);
        var release = await Backend.WaitForAsync<ReleaseNodeRequest>("ReleaseNode");
        Assert.Equal("node-a", release.NodeName);
        Assert.Equal("ReleaseNode", Backend.Calls[^1].Rpc);
    }

    [Fact]
    public async Task Executor_RunsASession_InTheProtocolsOrder()
    {
        await StartNodeAsync();
        Backend.Bind("e1", TestService(), Session("s1", commonData: "hello"));
        Backend.Launch("e1", "1", input: "echo:hi");
        Backend.Launch("e1", "2", input: "common");
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask", "LaunchTask", "CompleteTask",
             "LaunchTask", "UnbindExecutor", "UnbindExecutorCompleted", "BindExecutor", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
        var register = await Backend.WaitForAsync<RegisterExecutorRequest>("RegisterExecutor");
        Assert.Equal("node-a", register.ExecutorSpec.Node);
        Assert.Equal(1UL, register.ExecutorSpec.Resreq.Cpu);
        Assert.Equal(0UL, register.ExecutorSpec.Resreq.Memory);
        Assert.Equal(Shim.Host, register.ExecutorSpec.Shim);
        var bound = await Backend.WaitForAsync<BindExecutorCompletedRequest>("BindExecutorCompleted");
        Assert.Equal(0, bound.Result.ReturnCode);
        var results = Backend.Calls.Where(c => c.Rpc == "CompleteTask").Select(c => ((CompleteTaskRequest)c.Request).TaskResult).ToList();
        Assert.Equal([(0, "hi"), (0, "hello")], results.Select(r => (r.ReturnCode, r.Output.ToStringUtf8())));
        Assert.Equal(["enter s1 5", "invoke 1", "invoke 2", "leave"], File.ReadAllLines(ServiceLog));
        Assert.False(File.Exists(Path.Combine(_work.FullName, "executors", "e1", "instance.sock")), "the socket should be gone with the service");
    }

    [Fact]
    public async Task Executor_EndsItsBindingAtTheGateway_AfterAFault_AndIsBoundAgain()
    {
        await StartNodeAsync();
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.Launch("e1", "1", input: "echo:one");
        Backend.FailLaunch("e1", Grpc.Core.StatusCode.Internal);
        // Faulted while Bound: the gateway's executor is still Bound until it hears of the end, so the next
        // BindExecutor would be refused forever without UnbindExecutor and UnbindExecutorCompleted first.
        Backend.Bind("e1", TestService(), Session("s2"));
        Backend.Launch("e1", "1", "s2", input: "echo:two");
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask", "LaunchTask",
             "UnbindExecutor", "UnbindExecutorCompleted",
             "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask", "LaunchTask", "UnbindExecutor", "UnbindExecutorCompleted",
             "BindExecutor", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
        var outputs = Backend.Calls.Where(c => c.Rpc == "CompleteTask")
            .Select(c => ((CompleteTaskRequest)c.Request).TaskResult.Output.ToStringUtf8());
        Assert.Equal(["one", "two"], outputs);
        // The faulted binding's service was killed, not asked to leave; the next binding got a fresh one.
        Assert.Equal(["enter s1 0", "invoke 1", "enter s2 0", "invoke 1", "leave"], File.ReadAllLines(ServiceLog));
    }

    [Fact]
    public async Task Executor_EndsABindingOnlyTheGatewayStillHolds_WhenBindExecutorIsRefused_AndAsksAgain()
    {
        await StartNodeAsync();
        // As a gateway whose executor grain is still Bound from a binding that this executor left unannounced.
        Backend.FailBind("e1", Grpc.Core.StatusCode.FailedPrecondition, "executor 'e1' is Bound; BindExecutor needs it Idle");
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.Launch("e1", "1", input: "echo:one");
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "UnbindExecutor", "UnbindExecutorCompleted",
             "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask", "LaunchTask", "UnbindExecutor", "UnbindExecutorCompleted",
             "BindExecutor", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
        Assert.Equal(["one"], Backend.Calls.Where(c => c.Rpc == "CompleteTask")
            .Select(c => ((CompleteTaskRequest)c.Request).TaskResult.Output.ToStringUtf8()));
    }

    /// <summary>
    /// Executor e1 runs task <c>pid</c> in session s1 (its service reusable when <paramref name="reuseFirst"/>), then in
    /// s2, of <paramref name="application"/>, and ends: the outputs of the two tasks.
    /// </summary>
    private async Task<List<string>> RunPidTasksOfTwoSessionsAsync(Application application, bool reuseFirst)
    {
        Backend.Bind("e1", application, Session("s1"), reuseService: reuseFirst);
        Backend.Launch("e1", "1", "s1", input: "pid");
        Backend.Launch("e1", null);
        Backend.Bind("e1", application, Session("s2"));
        Backend.Launch("e1", "1", "s2", input: "pid");
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");
        return Backend.Calls.Where(c => c.Rpc == "CompleteTask")
            .Select(c => ((CompleteTaskRequest)c.Request).TaskResult.Output.ToStringUtf8()).ToList();
    }

    [Fact]
    public async Task Executor_StartsAFreshServiceForEachSession_WhenTheGatewayDoesNotAllowItsReuse()
    {
        await StartNodeAsync();
        var pids = await RunPidTasksOfTwoSessionsAsync(TestService(), reuseFirst: false);

        Assert.Equal(2, pids.Count);
        Assert.True(pids[0] != pids[1], $"expected s2 to get a fresh service process, but both sessions ran on pid {pids[0]}");
        Assert.Equal(["enter s1 0", "invoke 1", "leave", "enter s2 0", "invoke 1", "leave"], File.ReadAllLines(ServiceLog));
    }

    [Fact]
    public async Task Executor_KeepsItsServiceForTheNextSessionOfTheSameApplication_AndRestartsItForAnother()
    {
        await StartNodeAsync();
        Backend.Bind("e1", TestService(), Session("s1"), reuseService: true);
        Backend.Launch("e1", "1", "s1", input: "pid");
        Backend.Launch("e1", null);
        // The same application: the process that left s1 enters s2, and gets s2's common data.
        Backend.Bind("e1", TestService(), Session("s2", commonData: "two"), reuseService: true);
        Backend.Launch("e1", "1", "s2", input: "pid");
        Backend.Launch("e1", "2", "s2", input: "common");
        Backend.Launch("e1", null);
        // Started differently (one more environment variable): a new process.
        Backend.Bind("e1", TestService(("FLAME_TEST_SERVICE_ENTER_DELAY_MS", "1")), Session("s3"), reuseService: true);
        Backend.Launch("e1", "1", "s3", input: "pid");
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        var outputs = Backend.Calls.Where(c => c.Rpc == "CompleteTask")
            .Select(c => ((CompleteTaskRequest)c.Request).TaskResult.Output.ToStringUtf8()).ToList();
        Assert.Equal(4, outputs.Count);
        Assert.Equal(outputs[0], outputs[1]);
        Assert.Equal("two", outputs[2]);
        Assert.NotEqual(outputs[0], outputs[3]);
        Assert.Equal(["enter s1 0", "invoke 1", "leave", "enter s2 3", "invoke 1", "invoke 2", "leave", "enter s3 0", "invoke 1", "leave"],
            File.ReadAllLines(ServiceLog));
        // The last service is stopped before the executor unregisters.
        Assert.False(File.Exists(Path.Combine(_work.FullName, "executors", "e1", "instance.sock")), "the socket should be gone with the service");
    }

    [Fact]
    public async Task Executor_StartsAFreshService_WhenTheKeptOneCannotEnterTheNextSession()
    {
        await StartNodeAsync();
        var outputs = await RunPidTasksOfTwoSessionsAsync(TestService(("FLAME_TEST_SERVICE_ENTER_ONCE", "1")), reuseFirst: true);

        // The kept process refused s2; a fresh one entered it, and the session never heard of the refusal.
        var bound = Backend.Calls.Where(c => c.Rpc == "BindExecutorCompleted").Select(c => ((BindExecutorCompletedRequest)c.Request).Result.ReturnCode);
        Assert.Equal([0, 0], bound);
        Assert.Equal(2, outputs.Count);
        Assert.NotEqual(outputs[0], outputs[1]);
        Assert.Equal(["enter s1 0", "invoke 1", "leave", "enter s2 0", "enter s2 0", "invoke 1", "leave"], File.ReadAllLines(ServiceLog));
    }

    [Fact]
    public async Task EndedExecutors_LeaveOnlyTheNewestDirectories()
    {
        await StartNodeAsync(o => o.KeepExecutorDirectories = 1);
        foreach (var id in new[] { "e1", "e2" })
        {
            Backend.Bind(id, TestService(), Session("s1"));
            Backend.Launch(id, "1", input: "echo:1");
            Backend.Launch(id, null);
            Backend.NoBinding(id);
            Backend.CreateExecutor(id);
            await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: id);
        }

        // Pruned off the executor's path, after it ended: wait for it, boundedly.
        var executors = Path.Combine(_work.FullName, "executors");
        await Wait.UntilAsync(() => !Directory.Exists(Path.Combine(executors, "e1")), "e1's directory to be pruned once e2 ended",
            seen: () => string.Join(", ", Directory.GetDirectories(executors).Select(Path.GetFileName)));
        Assert.Equal(["e2"], Directory.GetDirectories(executors).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(executors, "e2", "service.log")), "the kept directory keeps its service log");
    }

    [Fact]
    public async Task Executor_RunsTheTasksOfAServiceWithoutTheTaskStream_WithOnTaskInvoke()
    {
        // A service that serves the standard flame.v1.Instance only (one written in another language, say).
        await StartNodeAsync();
        Backend.Bind("e1", TestService(["--Flame:Service:TaskStream=false"]), Session("s1"));
        Backend.Launch("e1", "1", input: "echo:one");
        Backend.Launch("e1", "2", input: "fail:two failed");
        Backend.Launch("e1", "3", input: "echo:three");
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        var results = Backend.Calls.Where(c => c.Rpc == "CompleteTask").Select(c => ((CompleteTaskRequest)c.Request).TaskResult).ToList();
        Assert.Equal([(0, "one", "", false), (1, "", "two failed", false), (0, "three", "", false)],
            results.Select(r => (r.ReturnCode, r.Output.ToStringUtf8(), r.Message, r.SystemFailure)));
        Assert.Equal(["enter s1 0", "invoke 1", "invoke 2", "invoke 3", "leave"], File.ReadAllLines(ServiceLog));
    }

    [Fact]
    public async Task Executor_ReportsAServiceThatFailsToStart_AndWaitsForTheNextBinding()
    {
        await StartNodeAsync();
        Backend.Bind("e1", Shell("echo 'no such database' >&2; exit 3"), Session("s1"));
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "BindExecutor", "UnregisterExecutor"], Backend.CallsFor("e1"));
        var completed = await Backend.WaitForAsync<BindExecutorCompletedRequest>("BindExecutorCompleted");
        // Flame's bind code and words for a service that cannot be started.
        Assert.Equal(11, completed.Result.ReturnCode);
        Assert.StartsWith("shim creation failed: the process exited with code 3 before listening on ", completed.Result.Message);
        Assert.EndsWith("\nno such database", completed.Result.Message);
    }

    [Fact]
    public async Task Executor_ReportsARefusedSessionEnter_AndStopsTheService()
    {
        await StartNodeAsync();
        Backend.Bind("e1", TestService(("FLAME_TEST_SERVICE_FAIL_ENTER", "1")), Session("s1"));
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "BindExecutor", "UnregisterExecutor"], Backend.CallsFor("e1"));
        var completed = await Backend.WaitForAsync<BindExecutorCompletedRequest>("BindExecutorCompleted");
        Assert.Equal(12, completed.Result.ReturnCode); // Flame's code for a refused OnSessionEnter
        Assert.StartsWith("on_session_enter failed: ", completed.Result.Message);
        Assert.Contains("OnSessionEnter failed on purpose", completed.Result.Message);
    }

    /// <summary>
    /// A service that dies mid-task fails the task as a system failure (another attempt), on the task stream and on
    /// OnTaskInvoke (every Flame service), with and without a task timeout: neither a binding fault nor a timeout.
    /// </summary>
    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 0)]
    [InlineData(false, 60)]
    public async Task Executor_FailsTheTaskAsASystemFailure_WhenTheServiceCrashes_AndUnbindsWithoutLeaving(bool taskStream, int taskTimeoutSeconds)
    {
        await StartNodeAsync(o => o.TaskTimeout = TimeSpan.FromSeconds(taskTimeoutSeconds));
        Backend.Bind("e1", TestService(taskStream ? [] : ["--Flame:Service:TaskStream=false"]), Session("s1"));
        Backend.Launch("e1", "7", input: "crash");
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask",
             "UnbindExecutor", "UnbindExecutorCompleted", "BindExecutor", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
        var complete = await Backend.WaitForAsync<CompleteTaskRequest>("CompleteTask");
        Assert.Equal(-1, complete.TaskResult.ReturnCode);
        Assert.True(complete.TaskResult.SystemFailure, "a crash is the system's failure: the task gets another attempt");
        Assert.Equal("service process exited with code 42 while running task 7", complete.TaskResult.Message);
        Assert.Equal(["enter s1 0", "invoke 7"], File.ReadAllLines(ServiceLog));
    }

    [Fact]
    public async Task Executor_KillsAServiceThatRunsOverTheTaskTimeout()
    {
        await StartNodeAsync(o => o.TaskTimeout = TimeSpan.FromMilliseconds(500));
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.Launch("e1", "3", input: "hang");
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        var complete = await Backend.WaitForAsync<CompleteTaskRequest>("CompleteTask");
        Assert.Equal(-2, complete.TaskResult.ReturnCode);
        Assert.True(complete.TaskResult.SystemFailure, "a timeout kills the service: the task gets another attempt");
        Assert.Equal("task 3 timed out after 0.5s; the service was killed", complete.TaskResult.Message);
        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask",
             "UnbindExecutor", "UnbindExecutorCompleted", "BindExecutor", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
    }

    [Fact]
    public async Task Executor_CarriesOn_AfterTheGatewayRefusesALateCompletion()
    {
        await StartNodeAsync();
        Backend.RefusedCompletions.Add("late");
        Backend.Bind("e1", TestService(), Session("s1"));
        Backend.Launch("e1", "1", input: "echo:late");
        Backend.Launch("e1", "2", input: "echo:on time");
        Backend.Launch("e1", null);
        Backend.NoBinding("e1");

        Backend.CreateExecutor("e1");
        await Backend.WaitForAsync<UnregisterExecutorRequest>("UnregisterExecutor", executorId: "e1");

        Assert.Equal(
            ["RegisterExecutor", "BindExecutor", "BindExecutorCompleted", "LaunchTask", "CompleteTask", "LaunchTask", "CompleteTask",
             "LaunchTask", "UnbindExecutor", "UnbindExecutorCompleted", "BindExecutor", "UnregisterExecutor"],
            Backend.CallsFor("e1"));
        Assert.Equal(["enter s1 0", "invoke 1", "invoke 2", "leave"], File.ReadAllLines(ServiceLog));
    }

    // ------------------------------------------------------------------ helpers

    private async Task<IHost> StartNodeAsync(Action<FlameExecutorManagerOptions>? configure = null)
    {
        var host = await TestNodes.StartAsync(_gateway.Endpoint, _work.FullName, output, configure);
        _nodes.Add(host);
        return host;
    }

    private Application TestService(params (string Name, string Value)[] environment) => TestService([], environment);

    private Application TestService(string[] arguments, params (string Name, string Value)[] environment)
    {
        if (!File.Exists(TestServicePath))
            Assert.Fail($"the test service is not built at {TestServicePath}: build tests/Flame.TestService");
        var spec = new ApplicationSpec { Command = TestServicePath };
        spec.Arguments.Add(arguments);
        spec.Environments.Add(new V1.Environment { Name = "FLAME_TEST_SERVICE_LOG", Value = ServiceLog });
        foreach (var (name, value) in environment)
            spec.Environments.Add(new V1.Environment { Name = name, Value = value });
        return new Application { Metadata = new Metadata { Id = "test", Name = "test" }, Spec = spec };
    }

    private static Application Shell(string script)
    {
        var spec = new ApplicationSpec { Command = "/bin/sh" };
        spec.Arguments.Add(["-c", script]);
        return new Application { Metadata = new Metadata { Id = "shell", Name = "shell" }, Spec = spec };
    }

    private static Session Session(string id, string? commonData = null)
    {
        var session = new Session { Metadata = new Metadata { Id = id, Name = id }, Spec = new SessionSpec { Application = "test" } };
        if (commonData is not null)
            session.Spec.CommonData = ByteString.CopyFromUtf8(commonData);
        return session;
    }
}
