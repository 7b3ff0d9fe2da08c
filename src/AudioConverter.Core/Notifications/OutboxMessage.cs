namespace AudioConverter.Core.Notifications;

/// <summary>
/// One message owed to the outside world: a webhook delivery to one endpoint, or one e-mail. Written in a transaction
/// (with the dispatcher's cursor, or with the signup), sent afterwards, retried until delivered or given up.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }

    /// <summary><see cref="OutboxKinds.Webhook"/> or <see cref="OutboxKinds.Email"/>.</summary>
    public required string Kind { get; set; }

    public long UserId { get; set; }

    /// <summary>The webhook endpoint; null for e-mail.</summary>
    public long? EndpointId { get; set; }

    /// <summary>The task event this message announces; null for a verification e-mail.</summary>
    public long? EventId { get; set; }

    /// <summary>The event type (task.processed...) or the e-mail's purpose (email.verify, task.processed...).</summary>
    public required string Type { get; set; }

    /// <summary>The <c>webhook-id</c>: the same on every attempt and every redelivery, so receivers can drop duplicates.</summary>
    public required string MessageId { get; set; }

    /// <summary>The webhook body (JSON), or the e-mail's recipient.</summary>
    public required string Payload { get; set; }

    /// <summary>The e-mail's subject and body, as the first line and the rest; null for webhooks.</summary>
    public string? Content { get; set; }

    public string Status { get; set; } = OutboxStatuses.Pending;

    public int Attempts { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime? DeliveredAt { get; set; }

    /// <summary>The dispatcher holding the message while it sends it; another takes over after the lease ends.</summary>
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }
}

public static class OutboxKinds
{
    public const string Webhook = "webhook";
    public const string Email = "email";
}

public static class OutboxStatuses
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";

    /// <summary>Given up: out of retries, refused by the receiver, or its endpoint was disabled or deleted.</summary>
    public const string Failed = "failed";
}
