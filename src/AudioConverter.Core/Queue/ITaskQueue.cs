namespace AudioConverter.Core.Queue;

/// <summary>Carries task ids from the API to workers. A message is only a wake-up call: the row stays the truth.</summary>
public interface ITaskQueue
{
    Task PublishAsync(long taskId, CancellationToken cancellationToken);

    /// <summary>Waits for the next message. The caller must ack or nack every delivery it receives.</summary>
    Task<IQueueDelivery> ReceiveAsync(CancellationToken cancellationToken);

    Task<bool> IsReadyAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether published messages outlive this process (a broker keeps them). When not, the sweeper's first pass
    /// publishes every waiting task again, since a restart emptied the queue.
    /// </summary>
    bool IsDurable { get; }
}
