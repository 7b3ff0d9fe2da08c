using System.Threading.Channels;
using AudioConverter.Core.Queue;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>
/// Tasks on a durable quorum queue. Publishes are persistent and wait for the broker's confirm. A worker process
/// consumes with manual acks and a prefetch equal to its conversion loops, so a message waits in the broker, not
/// behind a busy worker. The quorum queue counts deliveries (x-delivery-limit) and moves a message that keeps
/// failing to QueueName.dead. The client recovers the connection and the consumer by itself after a broker restart.
/// </summary>
public sealed partial class RabbitMqTaskQueue(RabbitMqOptions options, int prefetch, ILogger<RabbitMqTaskQueue> logger)
    : ITaskQueue, IBackendSetup, IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Channel<Delivery> received = Channel.CreateUnbounded<Delivery>();
    private IConnection? connection;
    private IChannel? publisher;
    private IChannel? consumer;

    // Bumped when the consuming channel closes: delivery tags of an older channel must not be acked on the recovered one.
    private int generation;

    public string SettingName => "Queue:RabbitMq:Uri";

    public string DeadLetterQueueName => options.QueueName + ".dead";

    public async Task PublishAsync(long taskId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.PublishTimeoutSeconds));
        try
        {
            var channel = await PublisherAsync(timeout.Token);
            var properties = new BasicProperties { Persistent = true, ContentType = "application/json" };

            // With confirmation tracking on, this returns when the broker has the message on disk (or throws).
            await channel.BasicPublishAsync("", options.QueueName, mandatory: true, properties, TaskMessage.For(taskId).ToBytes(), timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"RabbitMQ did not confirm the message within {options.PublishTimeoutSeconds} s.", e);
        }
    }

    public async Task<IQueueDelivery> ReceiveAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        while (consumer is null)
        {
            try
            {
                await StartConsumingAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The broker is away: keep trying; the caller simply waits longer for its next message.
                LogConsumerNotStarted(logger, e.Message);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }

        while (true)
        {
            var delivery = await received.Reader.ReadAsync(cancellationToken);
            if (delivery.Generation == Volatile.Read(ref generation))
            {
                return delivery;
            }

            // Received on a channel that has since closed: the broker has already put it back for redelivery.
        }
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (connection is { IsOpen: true })
        {
            return true;
        }

        try
        {
            await ConnectionAsync(cancellationToken);
            return connection is { IsOpen: true };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }

    public async Task SetUpAsync(CancellationToken cancellationToken) => await PublisherAsync(cancellationToken);

    /// <summary>Messages in the queue and in its dead-letter queue, for tests and diagnostics.</summary>
    public async Task<(uint Ready, uint Dead)> CountAsync(CancellationToken cancellationToken)
    {
        var channel = await PublisherAsync(cancellationToken);
        var main = await channel.QueueDeclarePassiveAsync(options.QueueName, cancellationToken);
        var dead = await channel.QueueDeclarePassiveAsync(DeadLetterQueueName, cancellationToken);
        return (main.MessageCount, dead.MessageCount);
    }

    private async Task<IConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (connection is not null)
        {
            return connection;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (connection is null)
            {
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(options.Uri),
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = true,
                    NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
                    RequestedHeartbeat = TimeSpan.FromSeconds(15),
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
                    ClientProvidedName = $"audioconverter-{Environment.MachineName}-{Environment.ProcessId}",
                };
                connection = await factory.CreateConnectionAsync(cancellationToken);
            }

            return connection;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<IChannel> PublisherAsync(CancellationToken cancellationToken)
    {
        if (publisher is not null)
        {
            return publisher;
        }

        var open = await ConnectionAsync(cancellationToken);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (publisher is null)
            {
                var channel = await open.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
                await DeclareAsync(channel, cancellationToken);
                publisher = channel;
            }

            return publisher;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await channel.QueueDeclareAsync(DeadLetterQueueName, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(options.QueueName, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-delivery-limit"] = options.DeliveryLimit,
            ["x-dead-letter-exchange"] = "",
            ["x-dead-letter-routing-key"] = DeadLetterQueueName,
        }, cancellationToken: cancellationToken);
    }

    private async Task StartConsumingAsync(CancellationToken cancellationToken)
    {
        var open = await ConnectionAsync(cancellationToken);
        await PublisherAsync(cancellationToken);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (consumer is not null)
            {
                return;
            }

            var channel = await open.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.BasicQosAsync(0, (ushort)Math.Clamp(prefetch, 1, ushort.MaxValue), global: false, cancellationToken);
            channel.ChannelShutdownAsync += (_, _) =>
            {
                Interlocked.Increment(ref generation);
                return Task.CompletedTask;
            };
            var events = new AsyncEventingBasicConsumer(channel);
            events.ReceivedAsync += (_, message) =>
            {
                var body = TaskMessage.Read(message.Body.Span);
                var taskId = body?.TaskId;
                var count = DeliveryCountOf(message);
                var delivery = new Delivery(this, channel, message.DeliveryTag, taskId ?? 0, count, Volatile.Read(ref generation)) { TraceParent = body?.TraceParent };
                if (taskId is null)
                {
                    LogMalformed(logger);
                    return channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: false).AsTask();
                }

                received.Writer.TryWrite(delivery);
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(options.QueueName, autoAck: false, events, cancellationToken);
            consumer = channel;
        }
        finally
        {
            gate.Release();
        }
    }

    private static int DeliveryCountOf(BasicDeliverEventArgs message)
    {
        // Quorum queues count earlier failed deliveries in x-delivery-count; absent on the first.
        if (message.BasicProperties.Headers?.TryGetValue("x-delivery-count", out var value) == true)
        {
            return 1 + Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return message.Redelivered ? 2 : 1;
    }

    public async ValueTask DisposeAsync()
    {
        received.Writer.TryComplete();
        foreach (var channel in new[] { consumer, publisher })
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        gate.Dispose();
    }

    private sealed class Delivery(RabbitMqTaskQueue queue, IChannel channel, ulong tag, long taskId, int count, int generation) : IQueueDelivery
    {
        public long TaskId => taskId;
        public int DeliveryCount => count;
        public int Generation => generation;
        public string? TraceParent { get; init; }

        public async Task AckAsync(CancellationToken cancellationToken)
        {
            if (IsCurrent)
            {
                await channel.BasicAckAsync(tag, multiple: false, cancellationToken);
            }
        }

        public async Task NackAsync(bool requeue, CancellationToken cancellationToken)
        {
            if (IsCurrent)
            {
                await channel.BasicNackAsync(tag, multiple: false, requeue, cancellationToken);
            }
        }

        public Task KeepAliveAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        // After a reconnect the broker has requeued this message already; settling it would hit another message's tag.
        private bool IsCurrent => generation == Volatile.Read(ref queue.generation);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start consuming from RabbitMQ yet: {Reason}")]
    private static partial void LogConsumerNotStarted(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a queue message that is not a task message (moved to the dead-letter queue)")]
    private static partial void LogMalformed(ILogger logger);
}
