using Flame.Cli.Control;

namespace Flame.Cli.Tests;

public sealed class AppFileTests
{
    [Fact]
    public void FullFile_IsReadIntoASpec()
    {
        var (name, spec) = AppFile.Parse("""
            name: my-app
            shim: host
            description: What it does
            labels: [batch, demo]
            command: /usr/bin/my-service
            arguments: [--verbose, "--port=0"]
            environments: {RUST_LOG: info, EMPTY: }
            working_directory: /tmp/my-app
            max_instances: 10
            delay_release: 60
            """, "app.yaml");
        Assert.Equal("my-app", name);
        Assert.Equal(Shim.Host, spec.Shim);
        Assert.Equal("What it does", spec.Description);
        Assert.Equal(["batch", "demo"], spec.Labels);
        Assert.Equal("/usr/bin/my-service", spec.Command);
        Assert.Equal(["--verbose", "--port=0"], spec.Arguments);
        Assert.Equal([new EnvironmentVariable { Name = "RUST_LOG", Value = "info" }, new EnvironmentVariable { Name = "EMPTY", Value = "" }], spec.Environments);
        Assert.Equal("/tmp/my-app", spec.WorkingDirectory);
        Assert.Equal(10u, spec.MaxInstances);
        Assert.Equal(60L, spec.DelayRelease);
    }

    [Fact]
    public void NameAlone_IsEnough()
    {
        var (name, spec) = AppFile.Parse("name: x\n", "app.yaml");
        Assert.Equal("x", name);
        Assert.Null(spec.MaxInstances);
        Assert.Null(spec.Command);
    }

    [Theory]
    [InlineData("name: x\nfoo: 1\n", "app.yaml:2: unknown key 'foo'")]
    [InlineData("name: x\nmax_instances: many\n", "app.yaml:2: 'max_instances' must be a whole number")]
    [InlineData("name: x\ndelay_release: -1\n", "app.yaml:2: 'delay_release' must be a whole number")]
    [InlineData("name: x\narguments: --verbose\n", "app.yaml:2: 'arguments' must be a list")]
    [InlineData("name: x\nenvironments: [a]\n", "app.yaml:2: 'environments' must be a mapping")]
    [InlineData("name: x\ncommand: [a, b]\n", "app.yaml:2: 'command' must be a single value, not a list")]
    [InlineData("name: x\nshim: Docker\n", "app.yaml:2: 'shim' must be Host or Wasm")]
    [InlineData("command: /bin/true\n", "app.yaml: missing 'name'")]
    [InlineData("", "app.yaml: the file is empty")]
    [InlineData("- a\n- b\n", "app.yaml:1: expected a mapping")]
    [InlineData("name: x\ncommand: \"unterminated\n", "app.yaml:2: invalid YAML")]
    [InlineData("name: x\n  bad indent: 1\n", "app.yaml:2: invalid YAML")]
    [InlineData("name: x\nname: y\n", "app.yaml:2: invalid YAML")]
    public void MalformedFiles_AreUsageErrors_NamingFileAndLine(string text, string expectedStart)
    {
        var ex = Assert.Throws<CliUsageException>(() => AppFile.Parse(text, "app.yaml"));
        Assert.StartsWith(expectedStart, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
