namespace AudioConverter.Core.Notifications;

/// <summary>A URL that receives signed task events. A row with a <see cref="TaskId"/> is a task's own <c>webhookUrl</c>.</summary>
public sealed class WebhookEndpoint
{
    public long Id { get; set; }
    public long UserId { get; set; }

    /// <summary>Set for the per-task webhook given at upload; such an endpoint only hears about that task and is not listed.</summary>
    public long? TaskId { get; set; }

    /// <summary>
    /// For a task's own endpoint, the task version it was given for: a PUT's webhookUrl hears the new conversion's outcome,
    /// not the earlier version's, even when that event is fanned out after the endpoint was written.
    /// </summary>
    public int FromVersion { get; set; }

    public required string Url { get; set; }

    /// <summary>Event types, comma-separated (task.processed,task.failed...).</summary>
    public required string Events { get; set; }

    public string? Description { get; set; }

    /// <summary>The signing secret, <c>whsec_</c> + base64; shown to the owner once.</summary>
    public required string Secret { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Why the endpoint stopped receiving, e.g. it answered 410 Gone.</summary>
    public string? DisabledReason { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public IReadOnlyList<string> EventList => Events.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
