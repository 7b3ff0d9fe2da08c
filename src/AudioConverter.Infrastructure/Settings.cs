using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure;

/// <summary>
/// The one way settings are bound and checked. Each section has one options class whose properties carry the
/// defaults and DataAnnotations attributes for single values; a rule written in code or spanning fields is an
/// <see cref="IValidateOptions{TOptions}"/> next to the class. Everything is checked at start (ValidateOnStart), and
/// every failure is a sentence that starts with the full key, e.g. "The field Worker:LeaseSeconds must be between 2 and 3600."
/// </summary>
public static class Settings
{
    /// <summary>Binds <paramref name="section"/> to <typeparamref name="T"/>, checked at start by its attributes.</summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>>(new AnnotatedSettings<T>(section)));
        return services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }

    /// <summary>Binds <paramref name="section"/> to <typeparamref name="T"/>, checked at start by its attributes and by <typeparamref name="TRules"/>.</summary>
    public static OptionsBuilder<T> AddSettings<T, TRules>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class
        where TRules : class, IValidateOptions<T>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, TRules>());
        return services.AddSettings<T>(configuration, section);
    }

    /// <summary>
    /// For the few sections the registration itself depends on (the role, each port's Provider, the telemetry
    /// exporters): bound once, here, checked now by the same attributes and rules, and registered as that instance,
    /// so nothing reads the section a second time.
    /// </summary>
    public static T ReadSettings<T>(this IServiceCollection services, IConfiguration configuration, string section, params IValidateOptions<T>[] rules)
        where T : class, new()
    {
        var value = (section.Length == 0 ? configuration.Get<T>() : configuration.GetSection(section).Get<T>()) ?? new T();
        var failures = rules.Prepend(new AnnotatedSettings<T>(section))
            .Select(rule => rule.Validate(Options.DefaultName, value))
            .Where(result => result.Failed)
            .SelectMany(result => result.Failures ?? [])
            .ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(T), failures);
        }

        services.AddSingleton<IOptions<T>>(Options.Create(value));
        return value;
    }

    /// <summary>The full configuration key of a property, e.g. Worker:LeaseSeconds (a root setting is its own name).</summary>
    public static string Key(string section, string property) => section.Length == 0 ? property : $"{section}:{property}";
}
