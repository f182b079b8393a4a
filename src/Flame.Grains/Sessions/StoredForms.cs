using System.Text.Json;
using System.Text.Json.Serialization;

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
