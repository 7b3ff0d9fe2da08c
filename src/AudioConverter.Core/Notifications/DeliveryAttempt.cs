namespace AudioConverter.Core.Notifications;

/// <summary>One try at sending an <see cref="OutboxMessage"/>: the delivery log an endpoint's owner reads.</summary>
public sealed class DeliveryAttempt
{
    public long Id { get; set; }
    public long MessageId { get; set; }
    public long? EndpointId { get; set; }
    public DateTime AttemptedAt { get; set; }

    /// <summary>The receiver's HTTP status; null when no answer came (refused, timed out, blocked address).</summary>
    public int? StatusCode { get; set; }

    public int DurationMilliseconds { get; set; }

    /// <summary>The first bytes of the answer, or why there was none.</summary>
    public string? Response { get; set; }
}
