using System.Text.Json;
using System.Text.Json.Serialization;
using Flame.Storage;

namespace Flame.Grains.Sessions;

/// <summary>
/// How the grains' state is written into the task store's opaque JSON columns. The JSON names are fixed here, apart
/// from the C# names, so that renaming a property does not break stored rows.
/// </summary>
internal static class StoredForms
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Events(IReadOnlyList<FlameEvent> events) => JsonSerializer.Serialize(events, Options);

    public static List<FlameEvent> Events(string json) =>
        JsonSerializer.Deserialize<List<FlameEvent>>(json, Options) ?? [];

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Awaits a store write; a store failure becomes Unavailable, so the caller knows the change was not made.</summary>
    public static async Task Durably(Task write)
    {
        try
        {
            await write;
        }
        catch (Exception ex) when (ex is not FlameException)
        {
            throw FlameException.Unavailable($"the task store could not write the change: {ex.Message}");
        }
    }

    /// <summary>
    /// Refuses new work (<paramref name="refused"/> says what) while the store's disk is full: what was accepted before
    /// must still be writable, and a refusal the caller can read beats an acceptance that is not durable.
    /// </summary>
    public static void CheckRoom(ITaskStore store, string refused)
    {
        if (store is GroupCommitTaskStore { Full: { } full })
            throw FlameException.ResourceExhausted($"{refused}: {full.Message}; free space on its disk and try again");
    }

    public static T Read<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidDataException($"stored {typeof(T).Name} is null");
}

/// <summary>A session's row in the task store, apart from its tasks.</summary>
internal sealed record StoredSessionForm
{
    [JsonPropertyName("spec")] public required SessionSpec Spec { get; init; }
    [JsonPropertyName("application")] public required ApplicationInfo Application { get; init; }
    [JsonPropertyName("state")] public SessionState State { get; init; }
    [JsonPropertyName("creationTime")] public long CreationTime { get; init; }
    [JsonPropertyName("completionTime")] public long? CompletionTime { get; init; }
    [JsonPropertyName("events")] public IReadOnlyList<FlameEvent> Events { get; init; } = [];
}
