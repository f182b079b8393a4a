using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flame.Service;

namespace Flame.PingService;

/// <summary>
/// The built-in flmping service. A task whose input is Flame's JSON <c>PingRequest</c>
/// (<c>{"duration": MILLISECONDS, "memory": BYTES}</c>, both optional) is answered as Flame's flmping service answers
/// it: the service holds <c>memory</c> bytes, sleeps <c>duration</c> milliseconds and returns the JSON
/// <c>PingResponse</c> <c>{"message": "Completed on &lt;HOST&gt; in &lt;MS&gt; milliseconds with &lt;BYTES&gt; memory"}</c>.
/// Any other input (none, bytes, text, JSON that is not an object) is returned as it came: our flmping measures
/// Flame's overhead and nothing else with it.
/// </summary>
public sealed class PingService : FlameService
{
    // Held memory comes in pieces, so that sizes beyond one array's limit work too.
    private const int Chunk = 64 * 1024 * 1024;

    /// <inheritdoc />
    public override async Task<byte[]?> OnTaskInvokeAsync(TaskContext context, CancellationToken cancellationToken)
    {
        if (!TryReadRequest(context.Input, out var request))
            return context.Input;

        var started = Stopwatch.GetTimestamp();
        var held = new List<byte[]>();
        for (var left = request.Memory ?? 0; left > 0; left -= (ulong)held[^1].Length)
        {
            var piece = new byte[(int)Math.Min(left, Chunk)];
            // Touch every page, so that the memory is really held and not only reserved.
            for (var i = 0; i < piece.Length; i += Environment.SystemPageSize)
                piece[i] = 1;
            held.Add(piece);
        }
        if (request.Duration is { } duration and > 0)
        {
            // A timer may fire a little early: sleep again until the whole duration has passed, as Flame's sleep does.
            var wanted = TimeSpan.FromMilliseconds(duration);
            for (var left = wanted; left > TimeSpan.Zero; left = wanted - Stopwatch.GetElapsedTime(started))
                await Task.Delay(left + TimeSpan.FromMilliseconds(1), cancellationToken);
        }
        var elapsed = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var bytes = held.Sum(p => (long)p.Length);
        GC.KeepAlive(held);

        var response = new PingResponse($"Completed on <{Environment.MachineName}> in <{elapsed}> milliseconds with <{bytes}> memory");
        return JsonSerializer.SerializeToUtf8Bytes(response, PingJson.Default.PingResponse);
    }

    /// <summary>True when <paramref name="input"/> is a JSON object whose <c>duration</c> and <c>memory</c>, if given, are null or whole numbers from 0.</summary>
    public static bool TryReadRequest(byte[]? input, out PingRequest request)
    {
        request = new PingRequest(null, null);
        // A JSON object starts with '{' (after white space); anything else is not a ping request, and is not parsed.
        if (input is null || input.Length == 0 || input.AsSpan().TrimStart(" \t\r\n"u8) is not [(byte)'{', ..])
            return false;
        try
        {
            // Like Flame's serde structure: keys other than duration and memory are ignored.
            request = JsonSerializer.Deserialize(input, PingJson.Default.PingRequest) ?? request;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>Flame's ping request: how long to sleep and how much memory to hold.</summary>
/// <param name="Duration">Milliseconds to sleep; null = none.</param>
/// <param name="Memory">Bytes to hold while sleeping; null = none.</param>
public sealed record PingRequest(
    [property: JsonPropertyName("duration")] ulong? Duration,
    [property: JsonPropertyName("memory")] ulong? Memory);

/// <summary>Flame's ping response.</summary>
/// <param name="Message">What was done, where, in how long.</param>
public sealed record PingResponse([property: JsonPropertyName("message")] string Message);

/// <summary>Source-generated JSON for the ping messages (fields as Flame names them; null written as null).</summary>
[JsonSerializable(typeof(PingRequest))]
[JsonSerializable(typeof(PingResponse))]
internal sealed partial class PingJson : JsonSerializerContext;
