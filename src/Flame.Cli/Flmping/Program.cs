using System.CommandLine;
using Flame.Cli;
using Flame.Cli.Flmping;

// Flame's flmping flags (-t, -c, -d, -m, -p, -P, -r) mean what they mean in Flame; ours sit beside them.
var endpoint = new Option<string[]>("--endpoint", "-e") { Description = Endpoints.EndpointHelp };
var context = new Option<string?>("--context") { Description = Endpoints.ContextHelp };
var config = new Option<string?>("--config") { Description = Endpoints.ConfigHelp };
var tokenFile = new Option<string?>("--token-file") { Description = Endpoints.TokenFileHelp };
var app = new Option<string>("--app", "-a") { Description = "The application to ping", DefaultValueFactory = _ => "flmping" };
var tasks = new Option<int>("--tasks", "-t", "--task-num") { Description = "How many tasks to run", DefaultValueFactory = _ => 10 };
var commonData = new Option<string?>("--common-data", "-c") { Description = "The session's common data, sent as Flame's {\"value\": TEXT}", HelpName = "TEXT" };
var commonDataSize = new Option<int>("--common-data-size") { Description = "Bytes (zeros) of common data for the session", DefaultValueFactory = _ => 0 };
var input = new Option<int>("--input", "-i") { Description = "Bytes (zeros) of input per task, echoed by the flmping service", DefaultValueFactory = _ => 0 };
var duration = new Option<string?>("--duration", "-d") { Description = "Milliseconds each task sleeps (sends Flame's JSON ping request)", HelpName = "MS" };
var memory = new Option<string?>("--memory", "-m") { Description = "Memory each task holds, e.g. 10MB (sends Flame's JSON ping request)", HelpName = "SIZE" };
var perf = new Option<bool>("--perf", "-p") { Description = "Benchmark: submit all tasks at once and print throughput and latency" };
var priority = new Option<uint>("--priority", "-P") { Description = "The session's priority (higher is served first)", DefaultValueFactory = _ => 0 };
var resreq = new Option<string?>("--resreq", "-r") { Description = "What one service instance needs, e.g. cpu=1,mem=1g (default: the cluster's)", HelpName = "RESREQ" };
var concurrency = new Option<int>("--concurrency") { Description = "Without -p: most tasks in flight at once", DefaultValueFactory = _ => 64 };

var root = new RootCommand("flmping: runs tasks of a no-op application through Flame and reports how they went.")
{
    endpoint, context, config, tokenFile, app, tasks, commonData, commonDataSize, input, duration, memory, perf, priority, resreq, concurrency,
};
root.SetAction((parse, ct) => CliErrors.RunAsync("flmping", () => new Ping(PingOptions.Validated(
    Endpoints.Resolve(parse.GetValue(endpoint), parse.GetValue(context), parse.GetValue(config), parse.GetValue(tokenFile), "flmping", Console.Error),
    new PingOptions.Raw(
        parse.GetValue(app)!,
        parse.GetValue(tasks),
        parse.GetValue(commonData),
        parse.GetValue(commonDataSize),
        parse.GetValue(input),
        parse.GetValue(duration),
        parse.GetValue(memory),
        parse.GetValue(perf),
        parse.GetValue(concurrency),
        parse.GetValue(priority),
        parse.GetValue(resreq)))).RunAsync(ct)));
return await root.Parse(args).InvokeAsync();
