using System.Text.RegularExpressions;
using AudioConverter.Core.Conversion;

namespace AudioConverter.Server.Presets;

/// <summary>A named target and options, built in or a user's own; <see cref="Options"/> are already validated for <see cref="NewFormat"/>.</summary>
public sealed record Preset(string Name, bool BuiltIn, string NewFormat, ConversionOptions Options);

/// <summary>What a preset may be called: 1-64 of lower-case letters, digits, '-', '_', ' ' and '.', not starting or ending with a space.</summary>
public static partial class PresetName
{
    public const int MaxLength = 64;

    /// <summary>Null when <paramref name="name"/> is allowed, otherwise a sentence saying what is.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "Give the preset a name: 1 to 64 of a-z, 0-9, '-', '_', '.' and spaces.";
        }

        if (name.Length > MaxLength)
        {
            return $"The preset name is {name.Length} characters long; the most is {MaxLength}.";
        }

        return Allowed().IsMatch(name) ? null : "A preset name may use only a-z, 0-9, '-', '_', '.' and spaces (not at its start or end).";
    }

    [GeneratedRegex("^[a-z0-9\\-_.]([a-z0-9\\-_. ]*[a-z0-9\\-_.])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Allowed();
}
