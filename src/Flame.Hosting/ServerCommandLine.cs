using System.CommandLine;
using System.CommandLine.Parsing;
using Microsoft.Extensions.Options;

namespace Flame.Hosting;

/// <summary>
/// The command line of a Flame server process (<c>flame-session-manager</c>, <c>flame-executor-manager</c>), parsed with
/// System.CommandLine: the process's own switches, each mapped onto a configuration key; <c>--config FILE</c>, the
/// cluster file; any configuration key as <c>--Section:Key=VALUE</c> (or <c>--Section:Key VALUE</c>, also after
/// <c>--</c>); <c>--help</c> and <c>--version</c>. Anything else is refused in one line with exit code 2.
/// </summary>
public sealed class ServerCommandLine
{
    /// <summary>The exit code of a usage or configuration mistake.</summary>
    public const int UsageExitCode = 2;

    /// <summary>The exit code of a start that failed for a reason outside the configuration (<see cref="FlameStartupException"/>).</summary>
    public const int StartupExitCode = 1;

    private readonly string _tool;
    private readonly string _description;
    private readonly IReadOnlyList<ServerSwitch> _switches;

    /// <summary>A command line for <paramref name="tool"/>.</summary>
    /// <param name="tool">The executable's name, the prefix of every error line.</param>
    /// <param name="description">What the process does, the first line of <c>--help</c>.</param>
    /// <param name="switches">The switches besides <c>--config</c>, <c>--help</c> and <c>--version</c>.</param>
    public ServerCommandLine(string tool, string description, params IReadOnlyList<ServerSwitch> switches)
    {
        _tool = tool;
        _description = description;
        _switches = switches;
    }

    /// <summary>The switches in the order <c>--help</c> lists them, <c>--config</c> last.</summary>
    public string KnownSwitches => string.Join(", ", _switches.Select(s => s.Name).Append("--config").Append("--help").Append("--version"));

    /// <summary>Splits <paramref name="args"/> into the cluster file and the configuration keys they set.</summary>
    /// <exception cref="FlameConfigurationException">An unknown switch or argument, a missing or malformed value.</exception>
    public ServerArguments Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var command = Build();
        return Arguments(command, command.Root.Parse(args, Parser));
    }

    /// <summary>
    /// Runs the process: <c>--help</c> and <c>--version</c> print and return 0; otherwise <paramref name="run"/> gets the
    /// parsed arguments. A bad command line or configuration is one line on <paramref name="stderr"/> and exit code 2;
    /// a <see cref="FlameStartupException"/> is one line and exit code 1.
    /// </summary>
    public async Task<int> RunAsync(string[] args, Func<ServerArguments, Task> run, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var command = Build();
        var parse = command.Root.Parse(args, Parser);
        // Only --help and --version have actions.
        if (parse.Errors.Count == 0 && parse.Action is not null)
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
        try
        {
            await run(Arguments(command, parse));
            return 0;
        }
        catch (FlameConfigurationException ex)
        {
            return Report(stderr, ex.Message, UsageExitCode);
        }
        catch (OptionsValidationException ex)
        {
            // ValidateOnStart: the values were validated when the host was built, so this is a key that changed since.
            return Report(stderr, ex.Failures.FirstOrDefault() ?? ex.Message, UsageExitCode);
        }
        catch (FlameStartupException ex)
        {
            return Report(stderr, ex.Message, StartupExitCode);
        }
    }

    private int Report(TextWriter stderr, string message, int code)
    {
        stderr.WriteLine($"{_tool}: {OneLine(message)}");
        return code;
    }

    // '@file' stays a value: response files would turn a configuration value that starts with '@' into a file's words.
    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null };

    private ServerArguments Arguments(Grammar command, ParseResult parse)
    {
        if (parse.Errors.Count > 0)
            throw new FlameConfigurationException(OneLine(parse.Errors[0].Message));
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (option, switchSpec) in command.Options)
        {
            if (parse.GetResult(option) is null)
                continue;
            var (key, value) = switchSpec.Resolve(parse.GetValue(option));
            overrides[key] = value;
        }
        foreach (var (key, value) in ConfigurationKeys(parse.UnmatchedTokens))
            overrides[key] = value;
        var file = parse.GetResult(command.Config) is null ? null : parse.GetValue(command.Config);
        if (file is not null && string.IsNullOrWhiteSpace(file))
            throw new FlameConfigurationException("switch '--config' needs a file");
        return new ServerArguments(file is null ? null : Path.GetFullPath(file), overrides);
    }

    /// <summary>The parser of one run: the root command, <c>--config</c>, and each switch's option.</summary>
    private sealed record Grammar(RootCommand Root, Option<string> Config, IReadOnlyList<(Option<string> Option, ServerSwitch Switch)> Options);

    private Grammar Build()
    {
        var config = new Option<string>("--config")
        {
            Description = "The cluster file (YAML or JSON) with the same keys as appsettings.json",
            HelpName = "FILE",
        };
        var root = new RootCommand($"{_tool}: {_description}\n\n"
            + "Any configuration key can be given as --Section:Key=VALUE, e.g. --Logging:LogLevel:Default=Debug; "
            + "environment variables such as Logging__LogLevel__Default set them too. The command line wins over "
            + "the environment, which wins over the --config file.")
        {
            // Configuration keys are not switches of ours: they are checked by ConfigurationKeys.
            TreatUnmatchedTokensAsErrors = false,
        };
        var options = new List<(Option<string>, ServerSwitch)>();
        foreach (var switchSpec in _switches)
        {
            var option = new Option<string>(switchSpec.Name) { Description = $"{switchSpec.Description} ({switchSpec.Key})", HelpName = switchSpec.HelpName };
            if (switchSpec.HelpName is null)
                option.Arity = ArgumentArity.Zero;
            root.Options.Add(option);
            options.Add((option, switchSpec));
        }
        root.Options.Add(config);
        return new Grammar(root, config, options);
    }

    /// <summary>The configuration keys among the tokens no switch took: <c>--Section:Key=VALUE</c> or <c>--Section:Key VALUE</c>.</summary>
    private IEnumerable<KeyValuePair<string, string?>> ConfigurationKeys(IReadOnlyList<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? token : token[..equals];
            if (!name.StartsWith("--", StringComparison.Ordinal) || !name.Contains(':', StringComparison.Ordinal) || name.Length < 5
                || name.StartsWith("--:", StringComparison.Ordinal) || name.EndsWith(':'))
            {
                throw new FlameConfigurationException(
                    $"unknown {(token.StartsWith('-') ? "switch" : "argument")} '{name}'; known switches: {KnownSwitches}, or a configuration key as --Section:Key=VALUE");
            }
            string value;
            if (equals >= 0)
                value = token[(equals + 1)..];
            else if (i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
                value = tokens[++i];
            else
                throw new FlameConfigurationException($"configuration key '{name[2..]}' needs a value: {name}=VALUE");
            yield return new(name[2..], value);
        }
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A switch of a server command line that sets one configuration key.</summary>
/// <param name="Name">The switch, e.g. <c>--slots</c>.</param>
/// <param name="Key">The configuration key it sets, e.g. <c>Flame:ExecutorManager:Slots</c>.</param>
/// <param name="Description">One line for <c>--help</c>.</param>
/// <param name="HelpName">The value's name in <c>--help</c> (<c>N</c>, <c>FILE</c>); null for a flag that takes no value and sets the key to <c>true</c>.</param>
/// <param name="Kind">How the value is checked and written into the key.</param>
public sealed record ServerSwitch(string Name, string Key, string Description, string? HelpName, ServerSwitchKind Kind = ServerSwitchKind.Text)
{
    /// <summary>The key and the value to set, the value checked and (for paths) made absolute.</summary>
    /// <exception cref="FlameConfigurationException">The value is missing or not of the switch's kind.</exception>
    public (string Key, string? Value) Resolve(string? value)
    {
        if (HelpName is null)
            return (Key, "true");
        // "--node --slots 2": the next switch is not the value.
        if (string.IsNullOrWhiteSpace(value) || value.StartsWith("--", StringComparison.Ordinal))
            throw new FlameConfigurationException($"switch '{Name}' needs a value");
        return Kind switch
        {
            ServerSwitchKind.WholeNumber when !int.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _)
                => throw new FlameConfigurationException($"switch '{Name}': '{value}' is not a whole number"),
            // Relative to where the process was started, not to where the host later runs (its content root).
            ServerSwitchKind.Path => (Key, System.IO.Path.GetFullPath(value)),
            _ => (Key, value),
        };
    }
}

/// <summary>How a <see cref="ServerSwitch"/>'s value is checked.</summary>
public enum ServerSwitchKind
{
    /// <summary>Any text, checked by the options it sets.</summary>
    Text,

    /// <summary>A whole number.</summary>
    WholeNumber,

    /// <summary>A file or directory, made absolute against the current directory.</summary>
    Path,
}
