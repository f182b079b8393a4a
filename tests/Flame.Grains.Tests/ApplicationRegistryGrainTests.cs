using Flame.Grains;

namespace Flame.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ApplicationRegistryGrainTests(ClusterFixture fixture)
{
    private IApplicationRegistryGrain Registry => fixture.Grains.GetGrain<IApplicationRegistryGrain>(IApplicationRegistryGrain.Key);

    private static string NewName() => "reg-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Register_Get_Update_Unregister_RoundTrip()
    {
        var name = NewName();
        var spec = new ApplicationSpec { Command = "/usr/bin/python3", Arguments = ["-m", "svc"], MaxInstances = 3, DelayRelease = 5 };
        var registered = await Registry.RegisterAsync(name, spec);
        Assert.Equal(ApplicationState.Enabled, registered.State);
        var stored = (await Registry.GetAsync(name)).Spec;
        Assert.Equal(spec.Command, stored.Command);
        Assert.Equal(spec.Arguments, stored.Arguments);
        Assert.Equal(spec.MaxInstances, stored.MaxInstances);
        Assert.Equal(spec.DelayRelease, stored.DelayRelease);
        Assert.Contains(await Registry.ListAsync(), a => a.Name == name);

        await Registry.UpdateAsync(name, spec with { MaxInstances = 7 });
        var updated = await Registry.GetAsync(name);
        Assert.Equal(7u, updated.Spec.MaxInstances);
        Assert.Equal(registered.CreationTime, updated.CreationTime);

        await Registry.UnregisterAsync(name);
        Assert.Equal(FlameErrorKind.NotFound, (await Assert.ThrowsAsync<FlameException>(() => Registry.GetAsync(name))).Kind);
    }

    [Fact]
    public async Task Register_Fails_WhenTheNameIsTaken()
    {
        var name = NewName();
        await Registry.RegisterAsync(name, new ApplicationSpec { Command = "a" });
        var ex = await Assert.ThrowsAsync<FlameException>(() => Registry.RegisterAsync(name, new ApplicationSpec { Command = "b" }));
        Assert.Equal(FlameErrorKind.AlreadyExists, ex.Kind);
        Assert.Equal("a", (await Registry.GetAsync(name)).Spec.Command);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    public async Task Register_Fails_ForAMalformedName(string name)
    {
        var ex = await Assert.ThrowsAsync<FlameException>(() => Registry.RegisterAsync(name, new ApplicationSpec { Command = "a" }));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public async Task Register_AcceptsAnApplicationWithoutCommand_AsFlameDoes()
    {
        var name = NewName();
        var info = await Registry.RegisterAsync(name, new ApplicationSpec());
        Assert.Null(info.Spec.Command);
        Assert.Null((await Registry.GetAsync(name)).Spec.Command);
    }

    [Fact]
    public async Task Register_Fails_ForASpecThatCannotRun()
    {
        var zeroMax = await Assert.ThrowsAsync<FlameException>(() => Registry.RegisterAsync(NewName(), new ApplicationSpec { Command = "a", MaxInstances = 0 }));
        Assert.Contains("max_instances", zeroMax.Message);
    }

    [Fact]
    public async Task UpdateAndUnregister_Fail_ForAnUnknownApplication()
    {
        Assert.Equal(FlameErrorKind.NotFound, (await Assert.ThrowsAsync<FlameException>(() => Registry.UpdateAsync(NewName(), new ApplicationSpec { Command = "a" }))).Kind);
        Assert.Equal(FlameErrorKind.NotFound, (await Assert.ThrowsAsync<FlameException>(() => Registry.UnregisterAsync(NewName()))).Kind);
    }
}
