using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace AudioConverter.Infrastructure;

/// <summary>Checks the DataAnnotations attributes of a settings class, naming each failing value by its full key.</summary>
public sealed class AnnotatedSettings<T>(string section) : IValidateOptions<T>
    where T : class
{
    private static readonly PropertyInfo[] Properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.CanWrite && p.GetCustomAttributes<ValidationAttribute>().Any())
        .ToArray();

    public ValidateOptionsResult Validate(string? name, T options)
    {
        var failures = new List<string>();
        foreach (var property in Properties)
        {
            var value = property.GetValue(options);
            var context = new ValidationContext(options) { MemberName = property.Name, DisplayName = Settings.Key(section, property.Name) };
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateProperty(value, context, results))
            {
                // Numbers are shown as given; text may be a secret, so it is not repeated.
                var shown = value is IFormattable number and not Enum ? $" It is {number.ToString(null, CultureInfo.InvariantCulture)}." : "";
                failures.AddRange(results.Select(r => Plain(r.ErrorMessage ?? "", context.DisplayName) + shown));
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>"The field Worker:LeaseSeconds must be ..." and "The Auth:Issuer field is required." start with the key instead.</summary>
    private static string Plain(string message, string key) =>
        message.StartsWith($"The field {key} ", StringComparison.Ordinal) ? message["The field ".Length..]
        : message == $"The {key} field is required." ? $"{key} is required."
        : message;
}
