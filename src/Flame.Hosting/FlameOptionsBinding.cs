using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Flame.Hosting;

/// <summary>
/// The one way both server processes read an options section: bound with <c>AddOptions&lt;T&gt;().Bind</c>, checked by
/// <see cref="FlameOptionsValidator{T}"/> (unknown keys, then data annotations and <c>IValidatableObject</c>) and
/// validated again at start (<c>ValidateOnStart</c>). The hosts also need most values while they wire themselves up
/// (ports, the silo, the executors), so the value is bound and validated at once as well, through the same validator.
/// </summary>
public static class FlameOptionsBinding
{
    /// <summary>
    /// Registers <typeparamref name="T"/> from <paramref name="section"/> of <paramref name="configuration"/>, validated at
    /// start, and returns its value now.
    /// </summary>
    /// <exception cref="FlameConfigurationException">A key is unknown, a value cannot be converted or is invalid.</exception>
    public static T AddFlameOptions<T>(this IServiceCollection services, IConfiguration configuration, string section) where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(services);
        var value = configuration.BindFlameOptions<T>(section);
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>>(new FlameOptionsValidator<T>(configuration, section)));
        return value;
    }

    /// <summary>Binds <paramref name="section"/> of <paramref name="configuration"/> to a new <typeparamref name="T"/> and validates it.</summary>
    /// <exception cref="FlameConfigurationException">A key is unknown, a value cannot be converted or is invalid; the first problem, naming its key.</exception>
    public static T BindFlameOptions<T>(this IConfiguration configuration, string section) where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var validator = new FlameOptionsValidator<T>(configuration, section);
        // Before binding: the binder would otherwise report a misspelt key's value before the misspelling.
        if (validator.UnknownKey() is { } unknown)
            throw new FlameConfigurationException(unknown);
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key and the value it could not convert.
            throw new FlameConfigurationException($"configuration section '{section}': {ex.Message}");
        }
        validator.ThrowIfInvalid(options);
        return options;
    }
}
