using System.Threading.Channels;
using AudioConverter.Core.Notifications;
using AudioConverter.Infrastructure.Notifications;

namespace AudioConverter.Server.Notifications;

/// <summary>
/// Hands finished tasks to <see cref="NotificationService"/> without waiting: a conversion never blocks or fails
/// because of its e-mail. Bounded, so a mail server that is down cannot grow memory; when full, a message is dropped.
/// </summary>
public sealed partial class NotificationQueue(NotificationOptions options, ILogger<NotificationQueue> logger)
{
    public const int Capacity = 1000;

    private readonly Channel<TaskNotification> channel = Channel.CreateBounded<TaskNotification>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    public bool Enabled { get; } = options.Enabled;

    public ChannelReader<TaskNotification> Reader => channel.Reader;

    /// <summary>Queues the message when notifications are on; returns at once either way.</summary>
    public void Enqueue(TaskNotification notification)
    {
        if (Enabled && !channel.Writer.TryWrite(notification))
        {
            LogDropped(logger, notification.TaskId, Capacity);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No e-mail for task {TaskId}: {Capacity} notifications are already waiting for the mail server")]
    private static partial void LogDropped(ILogger logger, long taskId, int capacity);
}
