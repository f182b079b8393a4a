using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Flame.Hosting;

/// <summary>
/// Validates an options section of the Flame configuration: a key that no property of <typeparamref name="T"/> takes
/// is refused (a misspelt key would otherwise be ignored), then the data annotations and <see cref="IValidatableObject"/>
/// of <typeparamref name="T"/>. Each problem is one line naming its key: <c>configuration key 'Section:Member': …</c>.
/// </summary>
/// <param name="configuration">The configuration the section is read from.</param>
/// <param name="section">The section's path, e.g. <c>Flame:Limits</c>.</param>
public sealed class FlameOptionsValidator<T>(IConfiguration configuration, string section) : IValidateOptions<T> where T : class
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>The first key of the section that <typeparamref name="T"/> does not know, as a message; null when there is none.</summary>
    public string? UnknownKey() => UnknownKey(configuration.GetSection(section), typeof(T));

    /// <summary>Every problem with <paramref name="options"/>: an unknown key first, then each invalid value.</summary>
    public IEnumerable<string> Problems(T options)
    {
        if (UnknownKey() is { } unknown)
            yield return unknown;
        foreach (var problem in InvalidValues(section, options))
            yield return problem;
    }

    /// <summary>Throws the first problem of <paramref name="options"/>'s values.</summary>
    /// <exception cref="FlameConfigurationException">A value is invalid.</exception>
    public void ThrowIfInvalid(T options)
    {
        if (InvalidValues(section, options).FirstOrDefault() is { } problem)
            throw new FlameConfigurationException(problem);
    }

    /// <summary>The problems of <paramref name="options"/>'s values by its annotations, one line each naming the key.</summary>
    public static IEnumerable<string> InvalidValues(string section, T options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        foreach (var result in results)
        {
            var key = result.MemberNames.FirstOrDefault() is { } member ? $"{section}:{member}" : section;
            yield return $"configuration key '{key}': {result.ErrorMessage}";
        }
    }

    private static string? UnknownKey(IConfigurationSection node, Type type)
    {
        var known = Keys(type);
        foreach (var child in node.GetChildren())
        {
            if (!known.TryGetValue(child.Key, out var property))
                return $"configuration key '{child.Path}' is unknown; the keys of '{node.Path}' are {string.Join(", ", known.Keys)}";
            if (IsSection(property.PropertyType) && UnknownKey(child, property.PropertyType) is { } nested)
                return nested;
        }
        return null;
    }

    /// <summary>The configuration keys of <paramref name="type"/>: its public settable properties, in declaration order.</summary>
    private static OrderedDictionary<string, PropertyInfo> Keys(Type type)
    {
        var keys = new OrderedDictionary<string, PropertyInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is { IsPublic: true } && property.GetCustomAttribute<NotAConfigurationKeyAttribute>() is null)
                keys.Add(property.Name, property);
        }
        return keys;
    }

    /// <summary>A property bound from a nested section with keys of its own (not a value, not a list).</summary>
    private static bool IsSection(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type);
}

/// <summary>A settable property of an options class that is set in code only, never from configuration.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NotAConfigurationKeyAttribute : Attribute;
