using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text.Json;
using Flame.Client;
using Flame.Client.Configuration;

namespace Flame.Cli.Control;

/// <summary>
/// flmctl, Flame's control tool: list, view, create, close, delete, register, update, unregister, migrate, health, token, object, completion.
/// It takes Flame's flmctl flags beside its own (<c>create --app -p -r</c>, <c>update -a FILE</c>,
/// <c>view --output-format</c>) and Flame's application files.
/// Program.cs only calls <see cref="RunAsync(string[], TextWriter, TextWriter)"/>, which tests call in-process too.
/// </summary>
/// <remarks>
/// Exit codes: 0 done; 1 the server refused the request or could not be reached (one line on stderr);
/// 2 a usage mistake or a malformed file (one line on stderr).
/// </remarks>
public static class Flmctl
{
    private const string Tool = "flmctl";

    // Keys are the documents' properties in camelCase; dictionary keys (environment variable names) stay as given.
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Runs flmctl with <paramref name="args"/>; colours only when writing to a terminal's stdout and NO_COLOR is unset.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr) =>
        RunAsync(args, stdout, stderr, color: ReferenceEquals(stdout, Console.Out) && Ansi.ConsoleWantsColor());

    /// <summary>Runs flmctl with <paramref name="args"/>, colouring tables when <paramref name="color"/> is true.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, bool color, CancellationToken cancellationToken = default)
    {
        var root = Build(stdout, stderr, color);
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            // One line per problem, then where to look, instead of the whole help text.
            foreach (var error in parse.Errors)
                stderr.WriteLine($"{Tool}: {CliErrors.OneLine(error.Message)}");
            var command = string.Join(' ', parse.CommandResult.Command.Name == root.Name ? [Tool] : new[] { Tool, parse.CommandResult.Command.Name });
            stderr.WriteLine($"{Tool}: run '{command} --help' for usage");
            return CliErrors.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken);
    }

    /// <summary>The command tree; actions write to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    public static RootCommand Build(TextWriter stdout, TextWriter stderr, bool color)
    {
        var endpoint = new Option<string[]>("--endpoint")
        {
            Description = Endpoints.EndpointHelp,
            Recursive = true,
        };
        var context = new Option<string?>("--context")
        {
            Description = Endpoints.ContextHelp,
            Recursive = true,
        };
        var config = new Option<string?>("--config")
        {
            Description = Endpoints.ConfigHelp,
            Recursive = true,
        };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = Endpoints.TokenFileHelp,
            Recursive = true,
        };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds to wait for the gateway before giving up",
            DefaultValueFactory = _ => 30,
            Recursive = true,
        };
        var root = new RootCommand("flmctl: controls a Flame cluster: applications, sessions, tasks, executors and nodes.")
        {
            endpoint, context, config, tokenFile, timeout,
        };

        // Runs one command's body against the gateways, with the error handling every command shares.
        Command Connected(Command command, Func<ParseResult, FlameConnection, CancellationToken, Task<int>> body)
        {
            command.SetAction((parse, ct) => CliErrors.RunAsync(Tool, stderr, async () =>
            {
                var seconds = parse.GetValue(timeout);
                if (seconds <= 0)
                    throw new CliUsageException("--timeout must be at least 1 second");
                var connection = Endpoints.Resolve(parse.GetValue(endpoint), parse.GetValue(context), parse.GetValue(config),
                    parse.GetValue(tokenFile), Tool, stderr);
                var address = connection.Display;
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                // Watching lasts as long as the session does: --timeout bounds the other commands' wait for the gateway.
                if (command.Name != WatchCommand.Name)
                    deadline.CancelAfter(TimeSpan.FromSeconds(seconds));
                try
                {
                    return await body(parse, connection, deadline.Token);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    throw new FlameException(FlameErrorKind.Unavailable, $"no answer from {address} within {seconds}s");
                }
                catch (FlameException ex) when (ex.Kind == FlameErrorKind.Unavailable && !ex.Message.Contains(address, StringComparison.Ordinal))
                {
                    throw new FlameException(FlameErrorKind.Unavailable, $"{address}: {ex.Message}");
                }
            }));
            return command;
        }

        Command Action(Command command, Func<ParseResult, IFlameClient, CancellationToken, Task<int>> body) =>
            Connected(command, async (parse, connection, ct) =>
            {
                await using var client = new GrpcFlameClient(connection);
                return await body(parse, client, ct);
            });

        root.Subcommands.Add(ListCommand(stdout, color, Action));
        root.Subcommands.Add(ViewCommand(stdout, color, Action));
        root.Subcommands.Add(CreateCommand(stdout, Action));
        root.Subcommands.Add(SessionCommand("close", "Closes a session: no more tasks, pending ones cancelled", stdout, Action,
            async (client, id, ct) => { await client.CloseSessionAsync(id, ct); return $"session {id} closed"; }));
        root.Subcommands.Add(SessionCommand("delete", "Deletes a closed session with no running task", stdout, Action,
            async (client, id, ct) => { await client.DeleteSessionAsync(id, ct); return $"session {id} deleted"; }));
        root.Subcommands.Add(AppFileCommand("register", "Registers the applications of a YAML file (one per document)", stdout, stderr, Action,
            async (client, name, spec, ct) => { await client.RegisterApplicationAsync(name, spec, ct); return $"application {name} registered"; }));
        root.Subcommands.Add(AppFileCommand("update", "Replaces an application's spec with a YAML file's (one document)", stdout, stderr, Action,
            async (client, name, spec, ct) => { await client.UpdateApplicationAsync(name, spec, ct); return $"application {name} updated"; }));
        root.Subcommands.Add(UnregisterCommand(stdout, Action));
        root.Subcommands.Add(PruneCommand(stdout, Action));
        root.Subcommands.Add(MigrateCommand(stdout));
        root.Subcommands.Add(WatchCommand.Command(stdout, ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected, Action));
        root.Subcommands.Add(HealthCommand.Command(stdout, color, Connected));
        root.Subcommands.Add(TokenCommand.Command(stdout, Connected));
        root.Subcommands.Add(ObjectCommand.Command(stdout, stderr, color, context, config, timeout));
        root.Subcommands.Add(CompletionCommand(stdout));
        return root;
    }

    private delegate Command ActionBinder(Command command, Func<ParseResult, IFlameClient, CancellationToken, Task<int>> body);

    // ------------------------------------------------------------------ list

    private static Command ListCommand(TextWriter stdout, bool color, ActionBinder bind)
    {
        var apps = new Option<bool>("--application", "-a") { Description = "List applications" };
        var sessions = new Option<bool>("--session", "-s") { Description = "List sessions" };
        var executors = new Option<bool>("--executor", "-e") { Description = "List executors" };
        var nodes = new Option<bool>("--node", "-n") { Description = "List nodes" };
        var state = new Option<string?>("--state") { Description = "With -s: only sessions in this state", HelpName = "open|closed" };
        state.AcceptOnlyFromAmong("open", "closed");
        var application = new Option<string?>("--app") { Description = "With -s: only sessions of this application", HelpName = "NAME" };
        var command = new Command("list", "Lists applications (-a), sessions (-s), executors (-e) or nodes (-n) as a table; given several, the first of these")
        {
            apps, sessions, executors, nodes, state, application,
        };
        return bind(command, async (parse, client, ct) =>
        {
            var chosen = new[] { parse.GetValue(apps), parse.GetValue(sessions), parse.GetValue(executors), parse.GetValue(nodes) };
            if (!chosen.Any(c => c))
                throw new CliUsageException("list: give one of -a (applications), -s (sessions), -e (executors), -n (nodes)");
            if (!chosen[0] && chosen[1])
            {
                var filter = new SessionFilter
                {
                    State = parse.GetValue(state) is { } s ? (s == "open" ? SessionState.Open : SessionState.Closed) : null,
                    Application = parse.GetValue(application),
                };
                await WriteSessionsAsync(client.ListSessionsAsync(filter, ct), stdout, color, ct);
                return 0;
            }
            var table =
                chosen[0] ? Views.Applications(await client.ListApplicationsAsync(ct).ToListAsync(ct), color)
                : chosen[2] ? Views.Executors(await client.ListExecutorsAsync(ct).ToListAsync(ct), color)
                : Views.Nodes(await client.ListNodesAsync(ct).ToListAsync(ct), color, DateTimeOffset.UtcNow);
            table.WriteTo(stdout);
            return 0;
        });
    }

    /// <summary>Any number of sessions: written a page at a time as they arrive, never held whole.</summary>
    private static async Task WriteSessionsAsync(IAsyncEnumerable<SessionInfo> sessions, TextWriter stdout, bool color, CancellationToken ct)
    {
        const int Piece = 1_000;
        var piece = new List<SessionInfo>(Piece);
        int[]? widths = null;
        await foreach (var session in sessions.WithCancellation(ct))
        {
            piece.Add(session);
            if (piece.Count == Piece)
            {
                widths = Views.Sessions(piece, color).WriteTo(stdout, "", header: widths is null, widths);
                piece.Clear();
            }
        }
        if (piece.Count > 0 || widths is null)
            Views.Sessions(piece, color).WriteTo(stdout, "", header: widths is null, widths);
    }

    // ------------------------------------------------------------------ prune

    private static Command PruneCommand(TextWriter stdout, ActionBinder bind)
    {
        var olderThan = new Option<string>("--older-than") { Description = "Delete the sessions closed longer ago than this: 30d, 12h, 45m or 90s", HelpName = "AGE", Required = true };
        var command = new Command("prune", "Deletes closed sessions, with their tasks, closed longer ago than --older-than (admin)") { olderThan };
        return bind(command, async (parse, client, ct) =>
        {
            var age = ParseAge(parse.GetValue(olderThan)!);
            var deleted = await client.PruneSessionsAsync(DateTimeOffset.UtcNow - age, ct);
            stdout.WriteLine($"{deleted} session(s) closed before {DateTimeOffset.UtcNow - age:u} deleted");
            return 0;
        });
    }

    /// <summary>"30d", "12h", "45m", "90s": a whole number and one unit.</summary>
    internal static TimeSpan ParseAge(string text)
    {
        var unit = text.Length > 1 ? text[^1] : ' ';
        if (!long.TryParse(text.AsSpan(0, Math.Max(0, text.Length - 1)), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            || unit is not ('d' or 'h' or 'm' or 's') || n > 36_500L * 86_400)
            throw new CliUsageException($"prune: --older-than '{text}' is not an age: give a whole number and d, h, m or s (e.g. 30d)");
        return unit switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), 'm' => TimeSpan.FromMinutes(n), _ => TimeSpan.FromSeconds(n) };
    }

    // ------------------------------------------------------------------ view

    private static Command ViewCommand(TextWriter stdout, bool color, ActionBinder bind)
    {
        var app = new Option<string?>("--application", "-a") { Description = "View an application", HelpName = "NAME" };
        var session = new Option<string?>("--session", "-s") { Description = "View a session (with -t: the session of the task)", HelpName = "ID" };
        var task = new Option<string?>("--task", "-t") { Description = "View a task: SESSION_ID/TASK_ID, or TASK_ID with -s", HelpName = "TASK" };
        var node = new Option<string?>("--node", "-n") { Description = "View a node", HelpName = "NAME" };
        var output = new Option<string>("--output", "-o", "--output-format") { Description = "Output format", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json", "yaml");
        var command = new Command("view", "Shows one application, session, task or node") { app, session, task, node, output };
        return bind(command, async (parse, client, ct) =>
        {
            var (a, s, t, n) = (parse.GetValue(app), parse.GetValue(session), parse.GetValue(task), parse.GetValue(node));
            var format = parse.GetValue(output)!;
            var targets = new[] { a is not null, s is not null || t is not null, n is not null }.Count(x => x);
            if (targets != 1)
                throw new CliUsageException("view: give exactly one of -a NAME, -s ID, -t SESSION_ID/TASK_ID (or -s ID -t TASK_ID), -n NAME");

            if (a is not null)
            {
                var info = await client.GetApplicationAsync(a, ct);
                Print(stdout, format, Views.Document(info), w => Views.DescribeApplication(w, info, color));
            }
            else if (t is not null)
            {
                var (sessionId, taskId) = ParseTask(s, t);
                var info = await client.GetTaskAsync(sessionId, taskId, ct);
                Print(stdout, format, Views.Document(info), w => Views.DescribeTask(w, info, color));
            }
            else if (s is not null)
            {
                var info = await client.GetSessionAsync(s, ct);
                Print(stdout, format, Views.Document(info), w => Views.DescribeSession(w, info, color));
            }
            else
            {
                var info = await client.GetNodeAsync(n!, ct);
                Print(stdout, format, Views.Document(info), w => Views.DescribeNode(w, info, color, DateTimeOffset.UtcNow));
            }
            return 0;
        });
    }

    /// <summary>The session and task ids of <c>-t SESSION/TASK</c> or <c>-s SESSION -t TASK</c>.</summary>
    public static (string SessionId, long TaskId) ParseTask(string? session, string task)
    {
        string sessionPart, taskPart;
        var slash = task.LastIndexOf('/');
        if (session is not null)
        {
            if (slash >= 0)
                throw new CliUsageException($"view: with -s, give -t as a task id only, not '{task}'");
            (sessionPart, taskPart) = (session, task);
        }
        else if (slash > 0)
        {
            (sessionPart, taskPart) = (task[..slash], task[(slash + 1)..]);
        }
        else
        {
            throw new CliUsageException($"view: give the task as SESSION_ID/TASK_ID (or -s SESSION_ID -t TASK_ID), not '{task}'");
        }
        if (!long.TryParse(taskPart, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var taskId) || taskId <= 0)
            throw new CliUsageException($"view: a task id is a whole number from 1, not '{taskPart}'");
        return (sessionPart, taskId);
    }

    /// <summary>A document as <c>-o json</c> prints it (without the final newline).</summary>
    internal static string Json<T>(T document) where T : class => JsonSerializer.Serialize(document, JsonOptions);

    internal static void Print<T>(TextWriter stdout, string format, T document, Action<TextWriter> table) where T : class
    {
        switch (format)
        {
            case "json":
                stdout.WriteLine(Json(document));
                break;
            case "yaml":
                stdout.Write(YamlWriter.Write(document));
                break;
            default:
                table(stdout);
                break;
        }
    }

    // ------------------------------------------------------------------ create, close, delete

    private static Command CreateCommand(TextWriter stdout, ActionBinder bind)
    {
        var app = new Option<string>("--application", "-a", "--app") { Description = "The application the session runs", Required = true, HelpName = "NAME" };
        var id = new Option<string?>("--id") { Description = "The session id (default: the server picks one)" };
        var priority = new Option<uint>("--priority", "-p") { Description = "Higher is served first", DefaultValueFactory = _ => 0 };
        var resreq = new Option<string?>("--resreq", "-r")
        {
            Description = "What one service instance needs, e.g. cpu=1,mem=1g,gpu=0 (cpu in cores; mem in bytes or with k, m, g, t; default: the cluster's)",
            HelpName = "RESREQ",
        };
        var min = new Option<uint>("--min") { Description = "Executors kept for the session while it is open", DefaultValueFactory = _ => 0 };
        var max = new Option<uint?>("--max") { Description = "Most executors for the session (default: unlimited)" };
        var commonData = new Option<FileInfo?>("--common-data-file") { Description = "A file whose bytes every service instance receives when it enters the session" };
        var command = new Command("create", "Creates a session and prints its id") { app, id, priority, resreq, min, max, commonData };
        return bind(command, async (parse, client, ct) =>
        {
            var (minValue, maxValue) = (parse.GetValue(min), parse.GetValue(max));
            if (maxValue is { } m && m < minValue)
                throw new CliUsageException($"create: --max ({m}) is smaller than --min ({minValue})");
            byte[]? data = null;
            if (parse.GetValue(commonData) is { } file)
            {
                try
                {
                    data = await File.ReadAllBytesAsync(file.FullName, ct);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CliUsageException($"{file}: cannot read the common data file: {ex.Message}");
                }
            }
            var spec = new SessionSpec
            {
                Application = parse.GetValue(app)!,
                Priority = parse.GetValue(priority),
                MinInstances = minValue,
                MaxInstances = maxValue,
                CommonData = data,
                ResReq = parse.GetValue(resreq) is { } text ? ResourceText.ParseRequirement(text, "create: --resreq") : null,
            };
            var session = await client.CreateSessionAsync(parse.GetValue(id), spec, ct);
            stdout.WriteLine(session.Id);
            return 0;
        });
    }

    private static Command SessionCommand(string name, string description, TextWriter stdout, ActionBinder bind,
        Func<IFlameClient, string, CancellationToken, Task<string>> act)
    {
        var session = new Option<string>("--session", "-s") { Description = "The session id", Required = true, HelpName = "ID" };
        var command = new Command(name, description) { session };
        return bind(command, async (parse, client, ct) =>
        {
            stdout.WriteLine(await act(client, parse.GetValue(session)!, ct));
            return 0;
        });
    }

    // ------------------------------------------------------------------ applications

    private static Command AppFileCommand(string name, string description, TextWriter stdout, TextWriter stderr, ActionBinder bind,
        Func<IFlameClient, string, ApplicationSpec, CancellationToken, Task<string>> act)
    {
        var single = name == "update";
        var file = new Option<string?>("--file", "-f")
        {
            Description = "The application file: YAML, Flame's layout (metadata.name, spec) or flat (name beside the spec's keys)"
                + (single ? "" : "; several applications in documents separated by ---"),
            HelpName = "app.yaml",
        };
        var command = new Command(name, description) { file };
        // Flame's flmctl names the file of `update` with -a/--application.
        var flameFile = new Option<string?>("--application", "-a") { Description = "The application file (Flame's flag; same as -f)", HelpName = "app.yaml" };
        if (single)
            command.Options.Add(flameFile);
        return bind(command, async (parse, client, ct) =>
        {
            var path = parse.GetValue(file) ?? (single ? parse.GetValue(flameFile) : null)
                ?? throw new CliUsageException($"{name}: give the application file with -f FILE" + (single ? " (or -a FILE)" : ""));
            var warnings = new List<string>();
            var apps = AppFile.Load(path, warnings);
            foreach (var warning in warnings)
                stderr.WriteLine($"{Tool}: warning: {warning}");
            if (single && apps.Count > 1)
                throw new CliUsageException($"{path}: {name} takes one application; the file holds {apps.Count}");
            // Like Flame, one call per document, in order, stopping at the first refusal.
            foreach (var (appName, spec) in apps)
                stdout.WriteLine(await act(client, appName, spec, ct));
            return 0;
        });
    }

    private static Command UnregisterCommand(TextWriter stdout, ActionBinder bind)
    {
        var app = new Option<string>("--application", "-a") { Description = "The application's name", Required = true, HelpName = "NAME" };
        var command = new Command("unregister", "Removes an application") { app };
        return bind(command, async (parse, client, ct) =>
        {
            var name = parse.GetValue(app)!;
            await client.UnregisterApplicationAsync(name, ct);
            stdout.WriteLine($"application {name} unregistered");
            return 0;
        });
    }

    // ------------------------------------------------------------------ migrate

    private static Command MigrateCommand(TextWriter stdout)
    {
        var url = new Option<string?>("--url", "-u") { Description = "Flame's storage URL (ignored)", HelpName = "URL" };
        var sql = new Option<string?>("--sql", "-s") { Description = "Flame's directory of SQL migrations (ignored)", HelpName = "DIR" };
        var command = new Command("migrate", "Flame's schema migration: nothing to do here, the cluster creates and upgrades its own storage") { url, sql };
        command.SetAction(_ =>
        {
            stdout.WriteLine("nothing to migrate: Flame.Orleans creates and upgrades its storage itself");
            return 0;
        });
        return command;
    }

    // ------------------------------------------------------------------ completion

    private static Command CompletionCommand(TextWriter stdout)
    {
        var shell = new Argument<string>("shell") { Description = "The shell (bash or zsh)" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Prints a shell script that completes flmctl's commands and options; e.g. source <(flmctl completion bash)") { shell };
        command.SetAction(parse =>
        {
            stdout.WriteLine(parse.GetValue(shell) == "zsh" ? Completion.Zsh : Completion.Bash);
            return 0;
        });
        return command;
    }
}
