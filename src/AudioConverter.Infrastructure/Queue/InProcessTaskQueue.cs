using System.Threading.Channels;
using AudioConverter.Core.Queue;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>
/// A channel inside the process, for one machine. Messages do not survive a restart;
/// the sweeper re-publishes every task left uploaded at start-up, so nothing is lost.
/// </summary>
public sealed class InProcessTaskQueue : ITaskQueue
{
    private readonly Channel<(long TaskId, int Count, string? TraceParent)> channel = Channel.CreateUnbounded<(long, int, string?)>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    public Task PublishAsync(long taskId, CancellationToken cancellationToken) =>
        channel.Writer.WriteAsync((taskId, 1, TaskMessage.For(taskId).TraceParent), cancellationToken).AsTask();

    public async Task<IQueueDelivery> ReceiveAsync(CancellationToken cancellationToken)
    {
        var (taskId, count, traceParent) = await channel.Reader.ReadAsync(cancellationToken);
        return new Delivery(this, taskId, count, traceParent);
    }

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    /// <summary>A channel in memory: a restart empties it.</summary>
    public bool IsDurable => false;

    /// <summary>Messages waiting; the contract tests read it to see what the sweeper published.</summary>
    public int Count => channel.Reader.Count;

    private sealed class Delivery(InProcessTaskQueue queue, long taskId, int count, string? traceParent) : IQueueDelivery
    {
        public long TaskId => taskId;
        public int DeliveryCount => count;
        public string? TraceParent => traceParent;

        public Task AckAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        // A hand-back is not a failed delivery: the count stays, as on the brokers.
        public Task NackAsync(bool requeue, CancellationToken cancellationToken) =>
            requeue ? queue.channel.Writer.WriteAsync((taskId, count, traceParent), cancellationToken).AsTask() : Task.CompletedTask;

        public Task KeepAliveAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
