namespace AudioConverter.Core.Tasks;

/// <summary>
/// One change in a task's life, written in the same transaction as the change itself. It is the change feed
/// that the event stream reads and the outbox that webhooks and e-mail are delivered from, so nothing announced
/// is lost whatever crashes after the commit.
/// </summary>
public sealed class TaskEvent
{
    /// <summary>Increasing cursor; the event stream's <c>id</c> and <c>Last-Event-ID</c>.</summary>
    public long Id { get; set; }
    public long TaskId { get; set; }
    public long UserId { get; set; }

    /// <summary>One of <see cref="TaskEventTypes"/>.</summary>
    public required string Type { get; set; }

    /// <summary>The task's version when the event happened, so a consumer can tell a stale event from a current one.</summary>
    public int Version { get; set; }

    /// <summary>The task as JSON at the moment of the event (camelCase, the API's task shape), or null when only the id is known.</summary>
    public string? Data { get; set; }

    public DateTime CreatedAt { get; set; }
}
