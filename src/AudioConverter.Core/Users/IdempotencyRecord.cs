namespace AudioConverter.Core.Users;

/// <summary>
/// The first answer to a request sent with an <c>Idempotency-Key</c>, kept 24 hours so a retry gets it again.
/// While the first request runs, <see cref="Status"/> is null (in flight).
/// </summary>
public sealed class IdempotencyRecord
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public required string Key { get; set; }

    /// <summary>Hex SHA-256 over the method, the path and the body (multipart boundaries left out).</summary>
    public required string Fingerprint { get; set; }

    public int? Status { get; set; }
    public string? ContentType { get; set; }
    public string? Location { get; set; }
    public byte[]? Body { get; set; }
    public DateTime CreatedAt { get; set; }
}
