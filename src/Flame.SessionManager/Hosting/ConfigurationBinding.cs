using System.ComponentModel.DataAnnotations;

namespace Flame.SessionManager.Hosting;

/// <summary>Configuration that cannot be used, named by its key. The host prints the message and exits.</summary>
public sealed class FlameConfigurationException(string message) : Exception(message);

/// <summary>Binds an options section and validates it before anything starts, naming the bad key.</summary>
public static class ConfigurationBinding
{
    /// <summary>Binds <paramref name="section"/> to a new <typeparamref name="T"/> and validates its data annotations.</summary>
    public static T BindValidated<T>(this IConfiguration configuration, string section) where T : class, new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key and the value it could not convert or did not know.
            throw new FlameConfigurationException($"configuration section '{section}': {ex.Message}");
        }
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            var first = results[0];
            var key = first.MemberNames.FirstOrDefault() is { } member ? $"{section}:{member}" : section;
            throw new FlameConfigurationException($"configuration key '{key}': {first.ErrorMessage}");
        }
        return options;
    }
}
