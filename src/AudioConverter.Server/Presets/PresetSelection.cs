using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Presets;

/// <summary><c>preset=NAME</c> on upload and PUT: the caller's view of presets, built-in ones first. Another user's preset is unknown.</summary>
public static class PresetSelection
{
    public const string Field = "preset";

    /// <summary>The preset, or the sentence to answer with when the name is not allowed or not known to this user.</summary>
    public static async Task<(Preset? Preset, string? Error)> FindAsync(AppDbContext db, long userId, string? name, CancellationToken cancellationToken)
    {
        if (PresetName.Problem(name) is { } problem)
        {
            return (null, problem);
        }

        if (BuiltInPresets.Find(name!) is { } builtIn)
        {
            return (builtIn, null);
        }

        var own = await db.UserPresets.AsNoTracking().FirstOrDefaultAsync(p => p.UserId == userId && p.Name == name, cancellationToken);
        if (own is null)
        {
            return (null, $"There is no preset '{name}'; GET /api/presets lists yours and the built-in ones ({string.Join(", ", BuiltInPresets.All.Select(p => p.Name))}).");
        }

        return (new Preset(own.Name, false, own.NewFormat, Core.Conversion.ConversionOptions.FromJson(own.Options)), null);
    }
}
