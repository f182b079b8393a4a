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

    /// <summary>Runs <paramref name="body"/> and turns the failures users meet into one line and an exit code.</summary>
    public static async Task<int> RunAsync(string tool, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliUsageException ex)
        {
            Console.Error.WriteLine($"{tool}: {ex.Message}");
            return Usage;
        }
        catch (FlameException ex) when (ex.Kind == FlameErrorKind.Unavailable)
        {
            return Fail(tool, $"cannot reach the Flame endpoint: {ex.Message}");
        }
        catch (FlameException ex)
        {
            return Fail(tool, ex.Message);
        }
        catch (RpcException ex)
        {
            return Fail(tool, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
        catch (HttpRequestException ex)
        {
            return Fail(tool, $"cannot reach the Flame endpoint: {ex.Message}");
        }
        catch (UriFormatException ex)
        {
            Console.Error.WriteLine($"{tool}: the endpoint is not a valid address: {ex.Message}");
            return Usage;
        }
        catch (OperationCanceledException)
        {
            return Fail(tool, "cancelled");
        }
    }

    private static int Fail(string tool, string message)
    {
        Console.Error.WriteLine($"{tool}: {message}");
        return Failed;
    }
}

/// <summary>A mistake in how a tool was called: reported in one line with exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
