namespace AudioConverter.Core.Users;

public sealed class User
{
    public long Id { get; set; }
    public required string Username { get; set; }
    public required string Email { get; set; }
    public required string PasswordHash { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>When the owner of the address followed the verification link; null until then, and no notification is mailed.</summary>
    public DateTime? EmailVerifiedAt { get; set; }

    /// <summary>SHA-256 (hex) of the verification token mailed at signup; cleared once used.</summary>
    public string? EmailVerificationHash { get; set; }

    /// <summary>The user's choice: e-mail when a task is processed or failed (only ever to a verified address).</summary>
    public bool NotificationsEnabled { get; set; } = true;
}
