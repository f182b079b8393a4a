using Flame.Client.Configuration;
using Grpc.Core;

namespace Flame.Cli;

/// <summary>
/// How the command-line tools end: one readable line on stderr and a non-zero exit code for every
/// failure a user can cause or meet (bad input, unknown ids, an unreachable endpoint), never a stack trace.
/// </summary>
public static class CliErrors
{
    /// <summary>Exit code for a usage or configuration mistake.</summary>
    public const int Usage = 2;
    /// <summary>Exit code for a request the server refused or could not serve.</summary>
    public const int Failed = 1;

    /// <summary>Runs <paramref name="body"/> and turns the failures users meet into one line on the console's stderr and an exit code.</summary>
    public static Task<int> RunAsync(string tool, Func<Task<int>> body) => RunAsync(tool, Console.Error, body);

    /// <summary>Runs <paramref name="body"/> and turns the failures users meet into one line on <paramref name="stderr"/> and an exit code.</summary>
    public static async Task<int> RunAsync(string tool, TextWriter stderr, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliUsageException ex)
        {
            return Report(stderr, tool, ex.Message, Usage);
        }
        catch (FlameClientConfigurationException ex)
        {
            return Report(stderr, tool, ex.Message, Usage);
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.Unavailable)
        {
            return Report(stderr, tool, $"cannot reach the Flame endpoint: {ex.Message}", Failed);
        }
        catch (FlameException ex)
        {
            return Report(stderr, tool, ex.Message, Failed);
        }
        catch (RpcException ex)
        {
            return Report(stderr, tool, $"{ex.StatusCode}: {ex.Status.Detail}", Failed);
        }
        catch (HttpRequestException ex)
        {
            return Report(stderr, tool, $"cannot reach the Flame endpoint: {ex.Message}", Failed);
        }
        catch (UriFormatException ex)
        {
            return Report(stderr, tool, $"the endpoint is not a valid address: {ex.Message}", Usage);
        }
        catch (OperationCanceledException)
        {
            return Report(stderr, tool, "cancelled", Failed);
        }
        catch (Exception ex)
        {
            // Anything else is a bug or an environment problem; still one line, never a stack trace.
            return Report(stderr, tool, $"{ex.GetType().Name}: {ex.Message}", Failed);
        }
    }

    private static int Report(TextWriter stderr, string tool, string message, int code)
    {
        stderr.WriteLine($"{tool}: {OneLine(message)}");
        return code;
    }

    /// <summary>Folds a multi-line message into one line.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A mistake in how a tool was called: reported in one line with exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
