namespace AudioConverter.Core.Notifications;

/// <summary>How far the dispatcher has turned task events into outbox messages; advanced in the same transaction as the messages.</summary>
public sealed class OutboxCursor
{
    public required string Name { get; set; }
    public long Position { get; set; }
}
