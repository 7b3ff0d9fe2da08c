using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Infrastructure;

/// <summary>A setting that names one of a few choices (a Provider, a mode), compared without regard to case.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OneOfAttribute(params string[] choices) : ValidationAttribute
{
    public IReadOnlyList<string> Choices { get; } = choices;

    public static bool Is(string? value, string choice) => string.Equals(value?.Trim(), choice, StringComparison.OrdinalIgnoreCase);

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        var text = value as string;
        return Choices.Any(choice => Is(text, choice))
            ? ValidationResult.Success
            : new ValidationResult($"{validationContext.DisplayName} '{text}' is not supported; use {string.Join(", ", Choices.SkipLast(1))} or {Choices[^1]}.", [validationContext.MemberName!]);
    }
}
