namespace AudioConverter.Core.Queue;

/// <summary>One received message, to be settled exactly once.</summary>
public interface IQueueDelivery
{
    long TaskId { get; }

    /// <summary>How many times the broker says this message was delivered (1 for the first), when it knows.</summary>
    int DeliveryCount { get; }

    /// <summary>The W3C traceparent of the request that published the message, when it carried one.</summary>
    string? TraceParent => null;

    /// <summary>The message is done with: the row is final or the task was not claimable.</summary>
    Task AckAsync(CancellationToken cancellationToken);

    /// <summary>Hands the message back for redelivery (requeue) or to the dead-letter queue.</summary>
    Task NackAsync(bool requeue, CancellationToken cancellationToken);

    /// <summary>Tells the broker the message is still being worked on (Pub/Sub ack deadlines); a no-op elsewhere.</summary>
    Task KeepAliveAsync(CancellationToken cancellationToken);
}
