namespace AudioConverter.Core.Users;

/// <summary>A long-lived credential for a program: stored as the SHA-256 of the key, never the key itself.</summary>
public sealed class ApiKey
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public required string Name { get; set; }

    /// <summary>The first characters of the key (<c>ack_</c> and four more), so a person can tell keys apart in the list.</summary>
    public required string Prefix { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole key; unique.</summary>
    public required string Hash { get; set; }

    /// <summary>Space-separated scopes, e.g. <c>tasks:read tasks:write</c>.</summary>
    public required string Scopes { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }

    /// <summary>Written at most about once a minute per key, not per request.</summary>
    public DateTime? LastUsedAt { get; set; }
}
