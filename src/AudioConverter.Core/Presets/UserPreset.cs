namespace AudioConverter.Core.Presets;

/// <summary>A user's own named preset: a target format and conversion options (<see cref="Conversion.ConversionOptions"/> as JSON).</summary>
public sealed class UserPreset
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public required string Name { get; set; }
    public required string NewFormat { get; set; }
    public required string Options { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
