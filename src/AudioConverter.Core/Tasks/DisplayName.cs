using System.Globalization;
using System.Text;

namespace AudioConverter.Core.Tasks;

/// <summary>A client's file name is display text only: this makes it safe to store and show.</summary>
public static class DisplayName
{
    public const int MaxLength = 200;

    public static string Sanitize(string? raw, string fallbackExtension)
    {
        var name = raw ?? string.Empty;

        // Keep only the last path segment, whichever separator the client used.
        var slash = Math.Max(name.LastIndexOf('/'), name.LastIndexOf('\\'));
        if (slash >= 0)
        {
            name = name[(slash + 1)..];
        }

        var builder = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator)
            {
                continue;
            }

            builder.Append(rune.ToString());
        }

        name = builder.ToString().Trim().Trim('.').Trim();
        if (name.Length == 0)
        {
            name = "audio." + fallbackExtension;
        }

        if (name.Length > MaxLength)
        {
            var extension = Extension(name);
            var keep = MaxLength - (extension.Length > 0 ? extension.Length + 1 : 0);
            var stem = name[..keep];
            if (char.IsHighSurrogate(stem[^1]))
            {
                stem = stem[..^1];
            }

            name = extension.Length > 0 ? $"{stem}.{extension}" : stem;
        }

        return name;
    }

    /// <summary>The lower-case extension without its dot, or empty.</summary>
    public static string Extension(string name)
    {
        var dot = name.LastIndexOf('.');
        if (dot < 0 || dot == name.Length - 1)
        {
            return string.Empty;
        }

        var extension = name[(dot + 1)..].ToLowerInvariant();
        return extension.Length <= 10 && extension.All(char.IsAsciiLetterOrDigit) ? extension : string.Empty;
    }

    /// <summary>The display name of the converted file: same stem, new extension.</summary>
    public static string WithExtension(string name, string extension)
    {
        var dot = name.LastIndexOf('.');
        var stem = dot > 0 ? name[..dot] : name;
        return $"{stem}.{extension}";
    }
}
