using System.Text.Json;

namespace Flame.Cli.Flmping;

/// <summary>
/// Flame's flmping messages (JSON, fields as Flame names them, null for what is absent) and its table of results.
/// </summary>
public static class PingMessages
{
    /// <summary>A task input: Flame's <c>PingRequest {"duration": MILLISECONDS, "memory": BYTES}</c>.</summary>
    public static byte[] Request(ulong? duration, ulong? memory) =>
        Json(w =>
        {
            w.WriteStartObject();
            Number(w, "duration", duration);
            Number(w, "memory", memory);
            w.WriteEndObject();
        });

    /// <summary>The session's common data given by <c>-c TEXT</c>: Flame's <c>{"value": TEXT}</c>.</summary>
    public static byte[] CommonData(string value) =>
        Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("value", value);
            w.WriteEndObject();
        });

    /// <summary>
    /// Flame's table of results, <c>Session Task State Output</c>: the output is the <c>message</c> of a
    /// <c>PingResponse</c>, else the output as text when it is printable, else its size; a task that did not
    /// succeed shows <c>code &lt;LAST EVENT CODE&gt;: MESSAGES</c> (its event messages joined by "; ").
    /// </summary>
    public static Table Table(IEnumerable<TaskInfo?> tasks)
    {
        var table = new Table("Session", "Task", "State", "Output");
        foreach (var task in tasks)
        {
            if (task is null)
                continue;
            var output = task.State == TaskState.Succeed
                ? Output(task.Output)
                : $"code <{task.Events.LastOrDefault()?.Code}>: {string.Join("; ", task.Events.Select(e => e.Message).Where(m => !string.IsNullOrEmpty(m)))}";
            table.Add(task.SessionId, task.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), task.State.ToString(), CliErrors.OneLine(output));
        }
        return table;
    }

    /// <summary>What a task's output says: a ping response's message, printable text, or its size.</summary>
    public static string Output(byte[]? output)
    {
        if (output is null || output.Length == 0)
            return "-";
        try
        {
            using var doc = JsonDocument.Parse(output);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                return message.GetString()!;
        }
        catch (JsonException)
        {
            // Not a ping response: shown below as text or size.
        }
        return Units.PrintableText(output) ?? $"{output.Length} B";
    }

    private static void Number(Utf8JsonWriter w, string name, ulong? value)
    {
        if (value is { } v)
            w.WriteNumber(name, v);
        else
            w.WriteNull(name);
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            write(writer);
        return buffer.ToArray();
    }
}
