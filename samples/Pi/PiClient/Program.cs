using Flame;
using Flame.Samples.Pi;
using Grpc.Core;

PiOptions options;
try
{
    options = PiOptions.Parse(args);
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"pi-client: {ex.Message} (see --help)");
    return 2;
}
if (options.Help)
{
    Console.WriteLine(PiOptions.Usage);
    return 0;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    return await PiRun.RunAsync(options, Console.Out, Console.Error, cancellation.Token);
}
catch (FlameException ex) when (ex.Kind == FlameErrorKind.Unavailable)
{
    Console.Error.WriteLine($"pi-client: cannot reach the Flame gateway at {options.Endpoint}: {OneLine(ex.Message)}");
}
catch (FlameException ex)
{
    Console.Error.WriteLine($"pi-client: {OneLine(ex.Message)}");
}
catch (Flame.Client.Configuration.FlameClientConfigurationException ex)
{
    Console.Error.WriteLine($"pi-client: {OneLine(ex.Message)}");
}
catch (RpcException ex)
{
    Console.Error.WriteLine($"pi-client: {ex.StatusCode}: {OneLine(ex.Status.Detail)}");
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    Console.Error.WriteLine("pi-client: cancelled");
    return 130;
}
catch (OperationCanceledException ex)
{
    // Not Ctrl+C: a timeout inside the client (e.g. connecting); one line, never a stack trace.
    Console.Error.WriteLine($"pi-client: cannot reach the Flame gateway at {options.Endpoint}: {OneLine(ex.Message)}");
}
catch (PiRunException ex)
{
    Console.Error.WriteLine($"pi-client: {ex.Message}");
}
return 1;

static string OneLine(string text) => text.ReplaceLineEndings(" ");
