using Flame.Cli.Control;

namespace Flame.Cli.Tests;

public sealed class AppFileTests
{
    private static (string Name, ApplicationSpec Spec) One(string text, List<string>? warnings = null) =>
        Assert.Single(AppFile.Parse(text, "app.yaml", warnings ?? []));

    [Fact]
    public void FullFlatFile_IsReadIntoASpec()
    {
        var (name, spec) = One("""
            name: my-app
            shim: host
            image: registry/img:1
            description: What it does
            labels: [batch, demo]
            command: /usr/bin/my-service
            arguments: [--verbose, "--port=0"]
            environments: {RUST_LOG: info, EMPTY: }
            working_directory: /tmp/my-app
            max_instances: 10
            delay_release: 60
            schema: {input: '{"type":"string"}', output: '{"type":"integer"}', common_data: '{"type":"object"}'}
            url: file:///opt/pkg.tar.gz
            installer: python
            """);
        Assert.Equal("my-app", name);
        Assert.Equal(Shim.Host, spec.Shim);
        Assert.Equal("registry/img:1", spec.Image);
        Assert.Equal("What it does", spec.Description);
        Assert.Equal(["batch", "demo"], spec.Labels);
        Assert.Equal("/usr/bin/my-service", spec.Command);
        Assert.Equal(["--verbose", "--port=0"], spec.Arguments);
        Assert.Equal([new EnvironmentVariable { Name = "RUST_LOG", Value = "info" }, new EnvironmentVariable { Name = "EMPTY", Value = "" }], spec.Environments);
        Assert.Equal("/tmp/my-app", spec.WorkingDirectory);
        Assert.Equal(10u, spec.MaxInstances);
        Assert.Equal(60L, spec.DelayRelease);
        Assert.Equal(new ApplicationSchema { Input = """{"type":"string"}""", Output = """{"type":"integer"}""", CommonData = """{"type":"object"}""" }, spec.Schema);
        Assert.Equal("file:///opt/pkg.tar.gz", spec.Url);
        Assert.Equal("python", spec.Installer);
    }

    [Fact]
    public void FlamesLayout_FromFlamesCrawlerExample_IsReadIntoTheSameSpec()
    {
        // Flame's examples/crawler/crawler-app.yaml shape (flame-head-behaviour.md §6.2).
        var (name, spec) = One("""
            metadata:
              name: crawler-app
            spec:
              shim: host
              description: text
              labels: [Tool]
              command: /usr/bin/uv
              arguments: [run, crawler.py]
              environments: {FLAME_LOG_LEVEL: DEBUG}
              working_directory: /opt/examples/crawler/
              max_instances: 10
              delay_release: 60
              url: file:///pkg.tar.gz
              installer: python
            """);
        Assert.Equal("crawler-app", name);
        Assert.Equal(Shim.Host, spec.Shim);
        Assert.Equal(["Tool"], spec.Labels);
        Assert.Equal("/usr/bin/uv", spec.Command);
        Assert.Equal(["run", "crawler.py"], spec.Arguments);
        Assert.Equal([new EnvironmentVariable { Name = "FLAME_LOG_LEVEL", Value = "DEBUG" }], spec.Environments);
        Assert.Equal("/opt/examples/crawler/", spec.WorkingDirectory);
        Assert.Equal(10u, spec.MaxInstances);
        Assert.Equal(60L, spec.DelayRelease);
        Assert.Equal("python", spec.Installer);
    }

    [Theory]
    [InlineData("WASM", Shim.Wasm)]
    [InlineData("wasm", Shim.Wasm)]
    [InlineData("Host", Shim.Host)]
    public void Shim_IsReadInAnyCase(string text, Shim expected) =>
        Assert.Equal(expected, One($"metadata: {{name: x}}\nspec: {{shim: {text}}}\n").Spec.Shim);

    [Fact]
    public void SeveralDocuments_AreSeveralApplications_InOrder_BothLayoutsMixed()
    {
        var apps = AppFile.Parse("""
            metadata:
              name: first
            spec:
              command: /bin/a
            ---
            name: second
            command: /bin/b
            ---
            """, "apps.yaml", []);
        Assert.Equal(["first", "second"], apps.Select(a => a.Name));
        Assert.Equal(["/bin/a", "/bin/b"], apps.Select(a => a.Spec.Command));
    }

    [Fact]
    public void NameAlone_IsEnough()
    {
        var (name, spec) = One("name: x\n");
        Assert.Equal("x", name);
        Assert.Null(spec.MaxInstances);
        Assert.Null(spec.Command);
    }

    [Fact]
    public void UnknownKeys_AreIgnored_WithAWarningNamingFileLineAndKey()
    {
        var warnings = new List<string>();
        var (name, spec) = One("metadata:\n  name: x\n  owner: me\nspec:\n  command: /bin/true\n  replicas: 3\nkind: App\n", warnings);
        Assert.Equal(("x", "/bin/true"), (name, spec.Command));
        Assert.Equal(["app.yaml:3: unknown key 'metadata.owner' (ignored)", "app.yaml:6: unknown key 'spec.replicas' (ignored)", "app.yaml:7: unknown key 'kind' (ignored)"], warnings);
    }

    [Theory]
    [InlineData("name: x\nmax_instances: many\n", "app.yaml:2: max_instances: must be a whole number, 0 or more")]
    [InlineData("name: x\ndelay_release: -1\n", "app.yaml:2: delay_release: must be a whole number, 0 or more")]
    [InlineData("metadata: {name: x}\nspec:\n  max_instances: -1\n", "app.yaml:3: spec.max_instances: must be a whole number, 0 or more")]
    [InlineData("name: x\narguments: --verbose\n", "app.yaml:2: arguments: must be a list")]
    [InlineData("name: x\nenvironments: [a]\n", "app.yaml:2: environments: must be a mapping")]
    [InlineData("name: x\ncommand: [a, b]\n", "app.yaml:2: command: must be a single value")]
    [InlineData("name: x\nshim: Docker\n", "app.yaml:2: shim: must be Host or Wasm")]
    [InlineData("command: /bin/true\n", "app.yaml:1: name: is missing")]
    [InlineData("spec: {command: /bin/true}\n", "app.yaml:1: metadata.name: is missing")]
    [InlineData("metadata: {name: x}\n", "app.yaml:1: spec: is missing")]
    [InlineData("name: x\nmetadata: {name: x}\nspec: {}\n", "app.yaml:1: name: mixes the two layouts")]
    [InlineData("", "app.yaml: the file is empty")]
    [InlineData("- a\n- b\n", "app.yaml:1: must be a mapping")]
    [InlineData("name: x\ncommand: \"unterminated\n", "app.yaml:2: not valid YAML")]
    [InlineData("name: x\n  bad indent: 1\n", "app.yaml:2: not valid YAML")]
    [InlineData("name: x\nname: y\n", "app.yaml:2: name: is given twice")]
    public void MalformedFiles_AreUsageErrors_NamingFileAndLine(string text, string expectedStart)
    {
        var ex = Assert.Throws<CliUsageException>(() => AppFile.Parse(text, "app.yaml", []));
        Assert.StartsWith(expectedStart, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
