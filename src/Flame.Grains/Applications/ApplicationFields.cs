using System.Globalization;
using System.Text;
using Flame.Grains.Hosting;

namespace Flame.Grains.Applications;

/// <summary>
/// The shape of an application spec: a known shim, every field within its configured size, and no control
/// characters where a process, a terminal or a log would read them as something else. Sizes are UTF-8 bytes.
/// </summary>
/// <remarks>
/// Two rules for characters. A <em>line</em> (command, working directory, image, url, installer, label, variable
/// name) holds no control character at all, nor the invisible marks that reorder what a reader sees: it names a
/// file or a thing, and a NUL would cut it where the kernel reads it. A <em>text</em> (description, argument,
/// variable value, schema) may hold tab, line feed and carriage return (a script passed with <c>-c</c>, a PEM in a
/// variable), and no other control character: a NUL cannot cross exec, and an escape sequence would rewrite the
/// terminal of whoever lists the application.
/// </remarks>
internal static class ApplicationFields
{
    /// <summary>Throws InvalidArgument naming the first field that breaks a limit, and the limit's key.</summary>
    public static void Validate(string name, ApplicationSpec spec, FlameLimitsOptions limits)
    {
        if (!Enum.IsDefined(spec.Shim))
            throw Invalid(name, $"shim {(int)spec.Shim} is unknown; known are Host (0) and Wasm (1)");

        Text(name, "description", spec.Description, limits.MaxApplicationDescriptionBytes, nameof(limits.MaxApplicationDescriptionBytes));
        Line(name, "command", spec.Command, limits.MaxApplicationFieldBytes, nameof(limits.MaxApplicationFieldBytes));
        Line(name, "working_directory", spec.WorkingDirectory, limits.MaxApplicationFieldBytes, nameof(limits.MaxApplicationFieldBytes));
        Line(name, "image", spec.Image, limits.MaxApplicationFieldBytes, nameof(limits.MaxApplicationFieldBytes));
        Line(name, "url", spec.Url, limits.MaxApplicationFieldBytes, nameof(limits.MaxApplicationFieldBytes));
        Line(name, "installer", spec.Installer, limits.MaxApplicationFieldBytes, nameof(limits.MaxApplicationFieldBytes));

        Count(name, "labels", spec.Labels.Count, limits.MaxApplicationLabels, nameof(limits.MaxApplicationLabels));
        for (var i = 0; i < spec.Labels.Count; i++)
            Line(name, $"label {i}", spec.Labels[i], limits.MaxApplicationLabelBytes, nameof(limits.MaxApplicationLabelBytes));

        Count(name, "arguments", spec.Arguments.Count, limits.MaxApplicationArguments, nameof(limits.MaxApplicationArguments));
        var argumentBytes = 0L;
        for (var i = 0; i < spec.Arguments.Count; i++)
            argumentBytes += Text(name, $"argument {i}", spec.Arguments[i], int.MaxValue, null);
        Total(name, "arguments", argumentBytes, limits.MaxApplicationArgumentsBytes, nameof(limits.MaxApplicationArgumentsBytes));

        Count(name, "environment variables", spec.Environments.Count, limits.MaxApplicationEnvironments, nameof(limits.MaxApplicationEnvironments));
        var environmentBytes = 0L;
        for (var i = 0; i < spec.Environments.Count; i++)
        {
            var variable = spec.Environments[i];
            if (string.IsNullOrEmpty(variable.Name))
                throw Invalid(name, $"environment variable {i} has no name");
            if (variable.Name.Contains('=', StringComparison.Ordinal))
                throw Invalid(name, $"environment variable {i} '{LogText.Escape(variable.Name, 64)}' has '=' in its name");
            environmentBytes += Line(name, $"the name of environment variable {i}", variable.Name, int.MaxValue, null);
            environmentBytes += Text(name, $"the value of environment variable {i} ({variable.Name})", variable.Value, int.MaxValue, null);
        }
        Total(name, "environment variables", environmentBytes, limits.MaxApplicationEnvironmentBytes, nameof(limits.MaxApplicationEnvironmentBytes));

        if (spec.Schema is { } schema)
        {
            Text(name, "schema.input", schema.Input, limits.MaxApplicationSchemaBytes, nameof(limits.MaxApplicationSchemaBytes));
            Text(name, "schema.output", schema.Output, limits.MaxApplicationSchemaBytes, nameof(limits.MaxApplicationSchemaBytes));
            Text(name, "schema.common_data", schema.CommonData, limits.MaxApplicationSchemaBytes, nameof(limits.MaxApplicationSchemaBytes));
        }
    }

    /// <summary>A line: no control or reordering character. Returns its size in bytes.</summary>
    private static int Line(string name, string what, string? value, int maxBytes, string? key)
    {
        if (value is null)
            return 0;
        var bad = LogText.IndexOfEscaped(value);
        if (bad >= 0)
            throw Invalid(name, $"{what} has the control character {CodePoint(value[bad])} at {bad}; commands, paths, labels and variable names may hold none");
        return Size(name, what, value, maxBytes, key);
    }

    /// <summary>A text: tab, line feed and carriage return allowed, no other control character. Returns its size in bytes.</summary>
    private static int Text(string name, string what, string? value, int maxBytes, string? key)
    {
        if (value is null)
            return 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
                throw Invalid(name, $"{what} has the control character {CodePoint(c)} at {i}; only tab, line feed and carriage return are allowed there");
        }
        return Size(name, what, value, maxBytes, key);
    }

    private static int Size(string name, string what, string value, int maxBytes, string? key)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        if (key is not null && bytes > maxBytes)
            throw Invalid(name, $"{what} is {bytes} bytes; the limit is {maxBytes} ({FlameLimitsOptions.Section}:{key})");
        return bytes;
    }

    private static void Count(string name, string what, int count, int max, string key)
    {
        if (count > max)
            throw Invalid(name, $"has {count} {what}; the limit is {max} ({FlameLimitsOptions.Section}:{key})");
    }

    private static void Total(string name, string what, long bytes, int maxBytes, string key)
    {
        if (bytes > maxBytes)
            throw Invalid(name, $"its {what} are {bytes} bytes together; the limit is {maxBytes} ({FlameLimitsOptions.Section}:{key})");
    }

    private static string CodePoint(char c) => "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);

    private static FlameException Invalid(string name, string problem) =>
        FlameException.InvalidArgument($"application '{name}': {problem}");
}
