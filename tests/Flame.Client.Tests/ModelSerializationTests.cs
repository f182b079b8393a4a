using System.Text.Json;
using Flame.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Flame.Client.Tests;

/// <summary>
/// Flame.Model's records carry no Orleans attribute; Flame.Abstractions' surrogates serialize them for grain calls and
/// its copiers pass them on uncopied, as <c>[Immutable]</c> did.
/// </summary>
public sealed class ModelSerializationTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(TaskInfoConverter).Assembly))
        .BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    private static readonly FlameEvent[] Events = [new() { Code = 2, Message = "done", CreationTime = 7 }];

    private static readonly TaskInfo Task1 = new()
    {
        Id = 3, SessionId = "s-1", State = TaskState.Succeed, Input = [1, 2], Output = [3], CreationTime = 5,
        CompletionTime = 9, Events = Events, Launch = 4,
    };

    private static readonly SessionInfo Session = new()
    {
        Id = "s-1",
        Spec = new SessionSpec
        {
            Application = "pi", CommonData = [9], MinInstances = 1, MaxInstances = 4, BatchSize = 2, Priority = 3,
            ResReq = new ResourceRequirement { Cpu = 2, Memory = 1 << 30, Gpu = 1 }, Owner = "alice",
        },
        Status = new SessionStatus
        {
            State = SessionState.Closed, CreationTime = 1, CompletionTime = 2, Pending = 1, Running = 2, Succeed = 3,
            Failed = 4, Cancelled = 5, Events = Events,
        },
    };

    private static readonly ApplicationInfo Application = new()
    {
        Name = "pi",
        Spec = new ApplicationSpec
        {
            Shim = Shim.Host, Description = "d", Labels = ["reuse-services"], Image = "i", Command = "c", Arguments = ["a"],
            Environments = [new EnvironmentVariable { Name = "N", Value = "V" }], WorkingDirectory = "/w", MaxInstances = 2,
            DelayRelease = 5, Schema = new ApplicationSchema { Input = "in", Output = "out", CommonData = "cd" }, Url = "u",
            Installer = "x",
        },
        State = ApplicationState.Disabled,
        CreationTime = 11,
    };

    private static readonly NodeInfo Node = new()
    {
        Name = "n1", Hostname = "h", State = NodeState.Ready, Capacity = new ResourceRequirement { Cpu = 8 },
        Allocatable = new ResourceRequirement { Cpu = 6 }, Arch = "x86_64", Os = "linux",
        Addresses = [new NodeAddress { Type = "InternalIP", Address = "10.0.0.1" }], LastHeartbeatTime = 12, Shims = [Shim.Host, Shim.Wasm],
    };

    private static readonly ExecutorInfo Executor = new()
    {
        Id = "e1", Node = "n1", ResReq = new ResourceRequirement { Cpu = 1 }, Shim = Shim.Host, State = ExecutorState.Bound,
        SessionId = "s-1", BoundAt = 13, Application = "pi",
    };

    public static TheoryData<object> Records() => new()
    {
        Task1, Session, Application, Node, Executor,
        new TaskPage { Tasks = [Task1, Task1 with { Id = 4 }], NextAfterId = 4 },
    };

    [Theory]
    [MemberData(nameof(Records))]
    public void ModelRecord_ComesBackEqual_FromAnOrleansRoundTrip(object record)
    {
        var serializer = _services.GetRequiredService<Serializer>();
        var back = serializer.Deserialize<object>(serializer.SerializeToArray<object>(record));
        Assert.IsType(record.GetType(), back);
        Assert.Equal(Json(record), Json(back));
    }

    [Theory]
    [MemberData(nameof(Records))]
    public void ModelRecord_IsPassedOnUncopied_ByTheOrleansCopier(object record)
    {
        var copier = _services.GetRequiredService<DeepCopier>();
        Assert.Same(record, copier.Copy(record));
    }

    [Fact]
    public void FlameException_KeepsItsKindAndMessage_AcrossAnOrleansRoundTrip()
    {
        var serializer = _services.GetRequiredService<Serializer>();
        Exception sent = FlameException.ResourceExhausted("too many open sessions");
        var back = Assert.IsType<FlameException>(serializer.Deserialize<Exception>(serializer.SerializeToArray(sent)));
        Assert.Equal(FlameErrorKind.ResourceExhausted, back.Kind);
        Assert.Equal("too many open sessions", back.Message);
    }

    private static string Json(object value) => JsonSerializer.Serialize(value, value.GetType());
}
