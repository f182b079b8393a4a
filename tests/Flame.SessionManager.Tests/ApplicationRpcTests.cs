using Flame.SessionManager.Tests.Support;
using Grpc.Core;
using static Flame.SessionManager.Tests.Support.WireHelpers;

namespace Flame.SessionManager.Tests;

// Inside the namespace, so that the wire types win over the domain types of namespace Flame.
using Flame.V1;
using Task = System.Threading.Tasks.Task;

/// <summary>RegisterApplication, UpdateApplication, UnregisterApplication, GetApplication, ListApplication over gRPC.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ApplicationRpcTests(GatewayFixture gateway)
{
    private Frontend.FrontendClient Frontend => gateway.Frontend;

    private static ApplicationSpec FullSpec() => new()
    {
        Shim = Shim.Host,
        Description = "computes pi",
        Labels = { "math", "demo" },
        Image = "registry.example/pi:1",
        Command = "/usr/bin/pi-service",
        Arguments = { "--precision", "high precision" },
        Environments =
        {
            new Flame.V1.Environment { Name = "RUST_LOG", Value = "info" },
            new Flame.V1.Environment { Name = "EMPTY", Value = "" },
        },
        WorkingDirectory = "/var/lib/pi",
        MaxInstances = 3,
        DelayRelease = 0, // set to zero: must stay distinguishable from unset
        Schema = new ApplicationSchema { Input = "u64", Output = "f64", CommonData = "none" },
        Url = "https://example.org/pi.tar.gz",
        Installer = "tar",
    };

    [Fact]
    public async Task RegisterApplication_RoundTripsEveryField_WhenAllAreSet()
    {
        var name = Names.Unique("app-full");
        var spec = FullSpec();
        var before = NowMs();

        var result = await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = spec });
        var after = NowMs();

        Assert.Equal(0, result.ReturnCode);
        var app = await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name });
        Assert.Equal(name, app.Metadata.Id);
        Assert.Equal(name, app.Metadata.Name);
        Assert.Equal(spec, app.Spec); // structural, including which optional fields are present
        Assert.True(app.Spec.HasDelayRelease, "delay_release 0 was given, so it must be present");
        Assert.Equal(ApplicationState.Enabled, app.Status.State);
        AssertTimeBetween(before, app.Status.CreationTime, after, "creation_time");
    }

    [Fact]
    public async Task RegisterApplication_LeavesOptionalFieldsUnset_WhenNotGiven()
    {
        var name = Names.Unique("app-min");
        var spec = new ApplicationSpec { Command = "/bin/true" };

        await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = spec });

        var got = (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec;
        Assert.Equal(spec, got);
        Assert.Equal(Shim.Host, got.Shim);
        Assert.False(got.HasDescription);
        Assert.False(got.HasImage);
        Assert.False(got.HasWorkingDirectory);
        Assert.False(got.HasMaxInstances);
        Assert.False(got.HasDelayRelease);
        Assert.False(got.HasUrl);
        Assert.False(got.HasInstaller);
        Assert.Null(got.Schema);
        Assert.Empty(got.Labels);
        Assert.Empty(got.Arguments);
        Assert.Empty(got.Environments);
    }

    [Fact]
    public async Task RegisterApplication_KeepsEmptyStringsAndPartialSchemas_ApartFromUnsetOnes()
    {
        var name = Names.Unique("app-empty");
        var spec = new ApplicationSpec
        {
            Shim = Shim.Wasm, // a Wasm application needs no command
            Description = "",
            WorkingDirectory = "",
            Schema = new ApplicationSchema { Output = "json" },
        };

        await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = spec });

        var got = (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec;
        Assert.Equal(spec, got);
        Assert.Equal(Shim.Wasm, got.Shim);
        Assert.True(got.HasDescription, "an empty description was given, so it must be present");
        Assert.True(got.HasWorkingDirectory, "an empty working directory was given, so it must be present");
        Assert.False(got.HasCommand);
        Assert.False(got.Schema.HasInput);
        Assert.Equal("json", got.Schema.Output);
        Assert.False(got.Schema.HasCommonData);
    }

    [Fact]
    public async Task RegisterApplication_IsRefusedWithResultMinusOne_WhenNameIsTaken()
    {
        var name = Names.Unique("app-dup");
        var first = FullSpec();
        await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = first });
        var count = (await Frontend.ListApplicationNamesAsync()).Count;

        await AssertRefusedAsync(Flame.FlameErrorKind.AlreadyExists,
            () => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
            {
                Name = name,
                Application = new ApplicationSpec { Command = "/bin/other" },
            }),
            name, "already");

        Assert.Equal(first, (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec);
        Assert.Equal(count, (await Frontend.ListApplicationNamesAsync()).Count);
    }

    [Theory]
    [InlineData("", "application name is empty")]
    [InlineData("has space", "' '")]
    [InlineData("a/b", "'/'")]
    [InlineData("ünïcode", "'ü'")]
    public async Task RegisterApplication_IsRefusedWithResultMinusOne_WhenNameIsMalformed(string name, string mention)
    {
        var before = await Frontend.ListApplicationNamesAsync();

        await AssertRefusedAsync(Flame.FlameErrorKind.InvalidArgument,
            () => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
            {
                Name = name,
                Application = new ApplicationSpec { Command = "/bin/true" },
            }),
            "application name", mention);

        Assert.Equal(before, await Frontend.ListApplicationNamesAsync());
    }

    [Fact]
    public async Task RegisterApplication_IsRefusedWithResultMinusOne_WhenNameIsLongerThan253Characters()
    {
        var before = await Frontend.ListApplicationNamesAsync();

        await AssertRefusedAsync(Flame.FlameErrorKind.InvalidArgument,
            () => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
            {
                Name = new string('a', 254),
                Application = new ApplicationSpec { Command = "/bin/true" },
            }),
            "application name", "254", "253");

        Assert.Equal(before, await Frontend.ListApplicationNamesAsync());
    }

    [Fact]
    public async Task RegisterApplication_Accepts_ANameOf253Characters()
    {
        var name = Names.Unique("long") + new string('x', 253 - 15);
        Assert.Equal(253, name.Length);

        await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = name,
            Application = new ApplicationSpec { Command = "/bin/true" },
        });

        Assert.Equal(name, (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Metadata.Name);
    }

    [Fact]
    public async Task RegisterApplication_AcceptsAnApplicationWithoutCommand_AsFlameDoes()
    {
        var name = Names.Unique("app-nocmd");

        var result = await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = name,
            Application = new ApplicationSpec { Shim = Shim.Host },
        });

        Assert.Equal(0, result.ReturnCode);
        var got = (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec;
        Assert.False(got.HasCommand, "a command that was never given stays unset");
        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest
        {
            SessionId = Names.Unique("nocmd"),
            Session = new SessionSpec { Application = name },
        });
        Assert.Equal(SessionState.Open, session.Status.State);
        Assert.Equal(SessionState.Closed,
            (await Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Metadata.Id })).Status.State);
    }

    [Fact]
    public async Task RegisterApplication_Fails_WhenApplicationIsMissing()
    {
        var name = Names.Unique("app-nospec");

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name })),
            "application");

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })), name);
    }

    public static TheoryData<string, string> InvalidSpecs => new()
    {
        { "max-instances-0", "max_instances" },
        { "negative-delay-release", "delay_release" },
        { "empty-env-name", "environment variable" },
        { "env-name-with-equals", "A=B" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public async Task RegisterApplication_Fails_WhenSpecIsInvalid(string problem, string mention)
    {
        var name = Names.Unique("app-bad");
        var spec = problem switch
        {
            "max-instances-0" => new ApplicationSpec { Command = "/bin/true", MaxInstances = 0 },
            "negative-delay-release" => new ApplicationSpec { Command = "/bin/true", DelayRelease = -1 },
            "empty-env-name" => new ApplicationSpec { Command = "/bin/true", Environments = { new Flame.V1.Environment { Value = "x" } } },
            "env-name-with-equals" => new ApplicationSpec { Command = "/bin/true", Environments = { new Flame.V1.Environment { Name = "A=B" } } },
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.RegisterApplicationAsync(new RegisterApplicationRequest { Name = name, Application = spec })),
            name, mention);

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })), name);
    }

    [Fact]
    public async Task UpdateApplication_ReplacesTheSpec_AndKeepsNameStateAndCreationTime()
    {
        var name = await Frontend.RegisterAppAsync("app-upd");
        var original = await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name });
        var updated = FullSpec();

        var result = await Frontend.UpdateApplicationAsync(new UpdateApplicationRequest { Name = name, Application = updated });

        Assert.Equal(0, result.ReturnCode);
        var app = await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name });
        Assert.Equal(updated, app.Spec);
        Assert.Equal(original.Metadata, app.Metadata);
        Assert.Equal(original.Status, app.Status);

        // Updating back to a spec without the optional fields clears them.
        var minimal = new ApplicationSpec { Command = "/bin/false" };
        await Frontend.UpdateApplicationAsync(new UpdateApplicationRequest { Name = name, Application = minimal });
        Assert.Equal(minimal, (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec);
    }

    [Fact]
    public async Task UpdateApplication_IsRefusedWithResultMinusOne_WhenApplicationIsUnknown()
    {
        var name = Names.Unique("app-ghost");

        await AssertRefusedAsync(Flame.FlameErrorKind.NotFound,
            () => Frontend.UpdateApplicationAsync(new UpdateApplicationRequest
            {
                Name = name,
                Application = new ApplicationSpec { Command = "/bin/true" },
            }),
            name);

        Assert.DoesNotContain(name, await Frontend.ListApplicationNamesAsync());
    }

    [Fact]
    public async Task UpdateApplication_Fails_WhenApplicationIsMissing_AndKeepsTheOldSpec()
    {
        var name = await Frontend.RegisterAppAsync("app-upd-nospec");
        var before = await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name });

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.UpdateApplicationAsync(new UpdateApplicationRequest { Name = name })),
            "application");

        Assert.Equal(before, await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name }));
    }

    [Fact]
    public async Task UpdateApplication_Fails_WhenSpecIsInvalid_AndKeepsTheOldSpec()
    {
        var name = await Frontend.RegisterAppAsync("app-upd-bad");
        var before = await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name });

        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.UpdateApplicationAsync(new UpdateApplicationRequest
            {
                Name = name,
                Application = new ApplicationSpec { Command = "/bin/true", MaxInstances = 0 },
            })),
            "max_instances");

        Assert.Equal(before, await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name }));
    }

    [Fact]
    public async Task UnregisterApplication_RemovesIt_AndFreesTheName()
    {
        var name = await Frontend.RegisterAppAsync("app-unreg");

        var result = await Frontend.UnregisterApplicationAsync(new UnregisterApplicationRequest { Name = name });

        Assert.Equal(0, result.ReturnCode);
        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })), name);
        Assert.DoesNotContain(name, await Frontend.ListApplicationNamesAsync());
        await AssertRefusedAsync(Flame.FlameErrorKind.NotFound,
            () => Frontend.UnregisterApplicationAsync(new UnregisterApplicationRequest { Name = name }), name);
        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.CreateSessionAsync(new CreateSessionRequest { Session = new SessionSpec { Application = name } })),
            name);

        // The name can be registered again.
        await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
        {
            Name = name,
            Application = new ApplicationSpec { Command = "/bin/again" },
        });
        Assert.Equal("/bin/again", (await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })).Spec.Command);
    }

    [Fact]
    public async Task UpdateAndUnregister_AreRefusedWithResultMinusOne_WhileTheApplicationHasOpenSessions()
    {
        var name = await Frontend.RegisterAppAsync("app-busy");
        var before = await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name });
        var session = await Frontend.CreateSessionAsync(new CreateSessionRequest { SessionId = Names.Unique("busy"), Session = new SessionSpec { Application = name } });

        await AssertRefusedAsync(Flame.FlameErrorKind.FailedPrecondition,
            () => Frontend.UpdateApplicationAsync(new UpdateApplicationRequest { Name = name, Application = new ApplicationSpec { Command = "/bin/other" } }),
            $"Cannot update application '{name}': has open sessions");
        await AssertRefusedAsync(Flame.FlameErrorKind.FailedPrecondition,
            () => Frontend.UnregisterApplicationAsync(new UnregisterApplicationRequest { Name = name }),
            $"Cannot unregister application '{name}': has open sessions");
        Assert.Equal(before, await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name }));

        await Frontend.CloseSessionAsync(new CloseSessionRequest { SessionId = session.Metadata.Id });
        Assert.Equal(0, (await Frontend.UnregisterApplicationAsync(new UnregisterApplicationRequest { Name = name })).ReturnCode);
    }

    [Fact]
    public async Task UnregisterApplication_IsRefusedWithResultMinusOne_WhenNameIsEmpty()
    {
        await AssertRefusedAsync(Flame.FlameErrorKind.InvalidArgument,
            () => Frontend.UnregisterApplicationAsync(new UnregisterApplicationRequest { Name = "" }),
            "application name");
    }

    [Fact]
    public async Task GetApplication_Fails_WhenApplicationIsUnknown()
    {
        var name = Names.Unique("app-nowhere");

        await AssertFailsAsync(StatusCode.NotFound,
            Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = name })),
            $"application '{name}' not found");
    }

    [Fact]
    public async Task GetApplication_Fails_WhenNameIsMalformed()
    {
        await AssertFailsAsync(StatusCode.InvalidArgument,
            Unary(() => Frontend.GetApplicationAsync(new GetApplicationRequest { Name = "no such/app" })),
            "application name");
    }

    [Fact]
    public async Task ListApplication_ListsEveryApplication_ByName_AsGetApplicationShowsIt()
    {
        var stem = Names.Unique("app-list");
        var names = new[] { stem + "-c", stem + "-a", stem + "-b" };
        foreach (var name in names)
            await Frontend.RegisterApplicationAsync(new RegisterApplicationRequest
            {
                Name = name,
                Application = new ApplicationSpec { Command = "/bin/" + name[^1] },
            });

        var list = (await Frontend.ListApplicationAsync(new ListApplicationRequest())).Applications;

        var ours = list.Where(a => a.Metadata.Name.StartsWith(stem, StringComparison.Ordinal)).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), ours.Select(a => a.Metadata.Name));
        foreach (var app in ours)
            Assert.Equal(await Frontend.GetApplicationAsync(new GetApplicationRequest { Name = app.Metadata.Name }), app);
        var all = list.Select(a => a.Metadata.Name).ToList();
        Assert.Equal(all.Order(StringComparer.Ordinal), all);
    }
}
