using System.ComponentModel.DataAnnotations;

namespace AudioConverter.Server.Auth;

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>The HMAC key tokens are signed with (at least 32 characters). Empty: a key is generated once and kept at SigningKeyPath.</summary>
    public string? SigningKey { get; set; }

    [Required]
    public string SigningKeyPath { get; set; } = "data/jwt-signing.key";

    [Required]
    public string Issuer { get; set; } = "AudioConverter";

    [Required]
    public string Audience { get; set; } = "AudioConverter";

    [Range(1, 60 * 24 * 30)]
    public int TokenLifetimeMinutes { get; set; } = 120;

    public TimeSpan TokenLifetime => TimeSpan.FromMinutes(TokenLifetimeMinutes);
}
