using System.CommandLine;
using Flame.Cli;
using Flame.Cli.Flmping;

var endpoint = new Option<string[]>("--endpoint", "-e") { Description = Endpoints.EndpointHelp };
var context = new Option<string?>("--context") { Description = Endpoints.ContextHelp };
var config = new Option<string?>("--config") { Description = Endpoints.ConfigHelp };
var tokenFile = new Option<string?>("--token-file") { Description = Endpoints.TokenFileHelp };
var app = new Option<string>("--app", "-a") { Description = "The application to ping", DefaultValueFactory = _ => "flmping" };
var tasks = new Option<int>("--tasks", "-t") { Description = "How many tasks to run", DefaultValueFactory = _ => 10 };
var commonData = new Option<int>("--common-data", "-c") { Description = "Bytes of common data for the session", DefaultValueFactory = _ => 0 };
var input = new Option<int>("--input", "-i") { Description = "Bytes of input per task", DefaultValueFactory = _ => 0 };
var perf = new Option<bool>("--perf", "-p") { Description = "Benchmark: submit all tasks at once and print throughput and latency" };
var concurrency = new Option<int>("--concurrency") { Description = "Without -p: most tasks in flight at once", DefaultValueFactory = _ => 64 };

var root = new RootCommand("flmping: runs tasks of a no-op application through Flame and reports how they went.")
{
    endpoint, context, config, tokenFile, app, tasks, commonData, input, perf, concurrency,
};
root.SetAction((parse, ct) => CliErrors.RunAsync("flmping", () => new Ping(PingOptions.Validated(
    Endpoints.Resolve(parse.GetValue(endpoint), parse.GetValue(context), parse.GetValue(config), parse.GetValue(tokenFile), "flmping", Console.Error),
    parse.GetValue(app)!,
    parse.GetValue(tasks),
    parse.GetValue(commonData),
    parse.GetValue(input),
    parse.GetValue(perf),
    parse.GetValue(concurrency))).RunAsync(ct)));
return await root.Parse(args).InvokeAsync();
