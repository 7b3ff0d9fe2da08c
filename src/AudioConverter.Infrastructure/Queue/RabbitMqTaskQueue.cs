using System.Threading.Channels;
using AudioConverter.Core.Queue;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>
/// Tasks on a durable quorum queue. Publishes are persistent and wait for the broker's confirm. A worker process
/// consumes with manual acks and a prefetch equal to its conversion loops, so a message waits in the broker, not
/// behind a busy worker. The quorum queue counts deliveries that were lost with their consumer (x-delivery-limit)
/// and moves a message that keeps killing its worker to QueueName.dead, a bounded queue the sweeper drains.
/// <para>
/// This adapter recovers by itself rather than through the client's automatic recovery: whatever closes the
/// consuming channel (a lost connection, the broker's consumer timeout, a deleted queue, a precondition failure, a
/// cancel from the broker) makes it open a new connection or channel, declare the queues again and consume again,
/// with back-off. Until then <see cref="IsReadyAsync"/> says the process is not ready.
/// </para>
/// </summary>
public sealed partial class RabbitMqTaskQueue(RabbitMqOptions options, int prefetch, ILogger<RabbitMqTaskQueue> logger)
    : ITaskQueue, IDeadLetterQueue, IBackendSetup, IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Channel<Delivery> received = Channel.CreateUnbounded<Delivery>();
    private readonly CancellationTokenSource disposing = new();
    private IConnection? connection;
    private IChannel? publisher;
    private Consumer? consumer;
    private bool wantsToConsume;
    private int restarting;

    public string SettingName => "Queue:RabbitMq:Uri";

    public string DeadLetterQueueName => options.QueueName + ".dead";

    /// <summary>Whether this process consumes and its consumer is currently registered with the broker.</summary>
    public bool IsConsuming => consumer is { IsLive: true };

    public async Task PublishAsync(long taskId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.PublishTimeout);
        try
        {
            var properties = new BasicProperties { Persistent = true, ContentType = "application/json" };
            var body = TaskMessage.For(taskId).ToBytes();
            try
            {
                // With confirmation tracking on, this returns when the broker has the message on disk (or throws).
                await (await PublisherAsync(timeout.Token)).BasicPublishAsync("", options.QueueName, mandatory: true, properties, body, timeout.Token);
            }
            catch (PublishReturnException)
            {
                // Unroutable: someone deleted the queue. Declare it again and publish once more.
                await DeclareTopologyAsync(await ConnectionAsync(timeout.Token), timeout.Token);
                await (await PublisherAsync(timeout.Token)).BasicPublishAsync("", options.QueueName, mandatory: true, properties, body, timeout.Token);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"RabbitMQ did not confirm the message within {options.PublishTimeout.TotalSeconds:0.#} s.", e);
        }
        catch (Exception e) when (IsBrokerFailure(e))
        {
            throw Unreachable(e);
        }
    }

    /// <summary>The client's own failures (refused, closed or interrupted connections): callers see only the port's exception.</summary>
    private static bool IsBrokerFailure(Exception e) => e is BrokerUnreachableException or RabbitMQClientException;

    private BackendUnreachableException Unreachable(Exception e) =>
        new($"Queue:RabbitMq:Uri: the broker at {options.Redacted} did not take the request: {e.Message.ReplaceLineEndings(" ").Trim()}", e);

    public async Task<IQueueDelivery> ReceiveAsync(CancellationToken cancellationToken)
    {
        wantsToConsume = true;
        while (true)
        {
            var current = await EnsureConsumingAsync(cancellationToken);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, current.Lost);
            Delivery delivery;
            try
            {
                delivery = await received.Reader.ReadAsync(either.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The consumer went away while waiting: start a new one.
                continue;
            }

            if (delivery.IsCurrent)
            {
                return delivery;
            }

            // Received on a channel that has since closed: the broker has already put it back for redelivery.
        }
    }

    public bool IsDurable => true;

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        // A worker whose consumer is gone takes no work, however well the connection answers.
        if (wantsToConsume && !IsConsuming)
        {
            return false;
        }

        try
        {
            return (await ConnectionAsync(cancellationToken)).IsOpen;
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
        await using var channel = await (await ConnectionAsync(cancellationToken)).CreateChannelAsync(cancellationToken: cancellationToken);
        var main = await channel.QueueDeclarePassiveAsync(options.QueueName, cancellationToken);
        var dead = await channel.QueueDeclarePassiveAsync(DeadLetterQueueName, cancellationToken);
        return (main.MessageCount, dead.MessageCount);
    }

    public async Task<IReadOnlyList<long>> DrainDeadLettersAsync(int max, CancellationToken cancellationToken)
    {
        try
        {
            return await DrainAsync(max, cancellationToken);
        }
        catch (Exception e) when (IsBrokerFailure(e))
        {
            throw Unreachable(e);
        }
    }

    private async Task<IReadOnlyList<long>> DrainAsync(int max, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        await using var channel = await (await ConnectionAsync(cancellationToken)).CreateChannelAsync(cancellationToken: cancellationToken);
        while (ids.Count < max && await channel.BasicGetAsync(DeadLetterQueueName, autoAck: false, cancellationToken) is { } message)
        {
            if (TaskMessage.Parse(message.Body.Span) is { } taskId)
            {
                ids.Add(taskId);
            }

            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
        }

        if (ids.Count > 0)
        {
            LogDrained(logger, ids.Count, DeadLetterQueueName);
        }

        return ids;
    }

    private async Task<IConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (connection is { IsOpen: true } open)
        {
            return open;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (connection is not { IsOpen: true })
            {
                var old = connection;
                connection = null;
                publisher = null;
                if (old is not null)
                {
                    await DisposeQuietlyAsync(old);
                }

                var factory = new ConnectionFactory
                {
                    Uri = new Uri(options.Uri),

                    // Recovery is done here, for the publisher and the consumer alike, so it also covers what the client does not recover.
                    AutomaticRecoveryEnabled = false,
                    RequestedHeartbeat = TimeSpan.FromSeconds(15),
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
                    ClientProvidedName = $"audioconverter-{Environment.MachineName}-{Environment.ProcessId}",
                };
                var created = await factory.CreateConnectionAsync(cancellationToken);
                created.ConnectionShutdownAsync += (_, reason) =>
                {
                    if (!disposing.IsCancellationRequested)
                    {
                        LogConnectionLost(logger, reason.ReplyText);
                    }

                    return Task.CompletedTask;
                };
                connection = created;
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
        if (publisher is { IsOpen: true } open)
        {
            return open;
        }

        var current = await ConnectionAsync(cancellationToken);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (publisher is not { IsOpen: true })
            {
                await DeclareTopologyAsync(current, cancellationToken);
                publisher = await current.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
            }

            return publisher;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Declares the dead-letter queue (bounded) and the quorum queue, on a channel of its own: a refused declaration closes its channel.</summary>
    private async Task DeclareTopologyAsync(IConnection current, CancellationToken cancellationToken)
    {
        var bounded = new Dictionary<string, object?> { ["x-max-length"] = options.DeadLetterMaxLength };
        var channel = await current.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            try
            {
                await channel.QueueDeclareAsync(DeadLetterQueueName, durable: true, exclusive: false, autoDelete: false, arguments: bounded, cancellationToken: cancellationToken);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
            {
                // Declared by an older version without a bound: keep it (deleting it is the operator's call) and say so.
                LogUnboundedDeadLetterQueue(logger, DeadLetterQueueName, options.DeadLetterMaxLength);
                await DisposeQuietlyAsync(channel);
                channel = await current.CreateChannelAsync(cancellationToken: cancellationToken);
                await channel.QueueDeclarePassiveAsync(DeadLetterQueueName, cancellationToken);
            }

            await channel.QueueDeclareAsync(options.QueueName, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-delivery-limit"] = options.DeliveryLimit,
                ["x-dead-letter-exchange"] = "",
                ["x-dead-letter-routing-key"] = DeadLetterQueueName,
            }, cancellationToken: cancellationToken);
        }
        finally
        {
            await DisposeQuietlyAsync(channel);
        }
    }

    /// <summary>Returns a live consumer, starting one (with back-off while the broker is away) when there is none.</summary>
    private async Task<Consumer> EnsureConsumingAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            if (consumer is { IsLive: true } live)
            {
                return live;
            }

            try
            {
                return await StartConsumingAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The broker is away or refused: keep trying; the callers simply wait longer for their next message.
                LogConsumerNotStarted(logger, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    private async Task<Consumer> StartConsumingAsync(CancellationToken cancellationToken)
    {
        var current = await ConnectionAsync(cancellationToken);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (consumer is { IsLive: true } live)
            {
                return live;
            }

            if (consumer is { } dead)
            {
                await DisposeQuietlyAsync(dead.Channel);
            }

            // The queue may have been deleted: declare it again before consuming.
            await DeclareTopologyAsync(current, cancellationToken);
            var channel = await current.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.BasicQosAsync(0, (ushort)Math.Clamp(prefetch, 1, ushort.MaxValue), global: false, cancellationToken);
            var started = new Consumer(channel);
            channel.ChannelShutdownAsync += (_, reason) => LostAsync(started, reason.ReplyText);
            var events = new AsyncEventingBasicConsumer(channel);

            // The broker cancels a consumer whose queue was deleted, without closing the channel.
            events.UnregisteredAsync += (_, _) => LostAsync(started, "the broker cancelled the consumer");
            events.ReceivedAsync += (_, message) =>
            {
                var body = TaskMessage.Read(message.Body.Span);
                var taskId = body?.TaskId;
                if (taskId is null)
                {
                    LogMalformed(logger);
                    return channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: false).AsTask();
                }

                received.Writer.TryWrite(new Delivery(this, started, message.DeliveryTag, taskId.Value, DeliveryCountOf(message)) { TraceParent = body?.TraceParent });
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(options.QueueName, autoAck: false, events, cancellationToken);
            consumer = started;
            LogConsuming(logger, options.QueueName);
            return started;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The consumer stopped: wake the waiting receivers and start a new one in the background, so recovery does not wait for an idle loop.</summary>
    private Task LostAsync(Consumer lost, string reason)
    {
        if (!lost.MarkLost() || disposing.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        LogConsumerLost(logger, reason);
        if (Interlocked.Exchange(ref restarting, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await EnsureConsumingAsync(disposing.Token);
                }
                catch (OperationCanceledException)
                {
                    // Disposed while the broker was away.
                }
                finally
                {
                    Volatile.Write(ref restarting, 0);
                }
            });
        }

        return Task.CompletedTask;
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

    private static async Task DisposeQuietlyAsync(IAsyncDisposable disposable)
    {
        try
        {
            await disposable.DisposeAsync();
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or IOException or ObjectDisposedException)
        {
            // Already closed by the broker.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await disposing.CancelAsync();
        received.Writer.TryComplete();
        foreach (var channel in new[] { consumer?.Channel, publisher })
        {
            if (channel is not null)
            {
                await DisposeQuietlyAsync(channel);
            }
        }

        if (connection is not null)
        {
            await DisposeQuietlyAsync(connection);
        }

        gate.Dispose();
        disposing.Dispose();
    }

    /// <summary>One registration with the broker; lost for good when its channel closes or the broker cancels it.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source has no timer and no registration of its own: a cancelled one holds nothing to release, and the channel is closed by the queue.")]
    private sealed class Consumer(IChannel channel)
    {
        private readonly CancellationTokenSource lost = new();

        public IChannel Channel => channel;

        public CancellationToken Lost => lost.Token;

        public bool IsLive => !lost.IsCancellationRequested && channel.IsOpen;

        /// <summary>True for the first caller only.</summary>
        public bool MarkLost()
        {
            lock (lost)
            {
                if (lost.IsCancellationRequested)
                {
                    return false;
                }

                lost.Cancel();
                return true;
            }
        }
    }

    private sealed class Delivery(RabbitMqTaskQueue queue, Consumer owner, ulong tag, long taskId, int count) : IQueueDelivery
    {
        public long TaskId => taskId;
        public int DeliveryCount => count;
        public string? TraceParent { get; init; }

        // After its channel closed the broker has requeued this message already; settling it would hit another message's tag.
        public bool IsCurrent => owner.Channel.IsOpen;

        public async Task AckAsync(CancellationToken cancellationToken)
        {
            if (IsCurrent)
            {
                await owner.Channel.BasicAckAsync(tag, multiple: false, cancellationToken);
            }
        }

        public async Task NackAsync(bool requeue, CancellationToken cancellationToken)
        {
            if (!IsCurrent)
            {
                return;
            }

            if (!requeue)
            {
                await owner.Channel.BasicNackAsync(tag, multiple: false, requeue: false, cancellationToken);
                return;
            }

            // A worker hands a message back when it could not look at the task (the database is away, it is stopping):
            // that is not the message's fault, so it must not count towards x-delivery-limit as a nack would. A fresh
            // copy goes to the back of the queue, then the original is acked; a crash between the two leaves a
            // duplicate, which the conditional claim makes harmless.
            try
            {
                await queue.PublishAsync(taskId, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await owner.Channel.BasicNackAsync(tag, multiple: false, requeue: true, cancellationToken);
                return;
            }

            await owner.Channel.BasicAckAsync(tag, multiple: false, cancellationToken);
        }

        public Task KeepAliveAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start consuming from RabbitMQ yet, retrying in {DelaySeconds} s: {Reason}")]
    private static partial void LogConsumerNotStarted(ILogger logger, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The RabbitMQ consumer stopped ({Reason}); starting a new one")]
    private static partial void LogConsumerLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming from RabbitMQ queue {Queue}")]
    private static partial void LogConsuming(ILogger logger, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The RabbitMQ connection closed: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead-letter queue {Queue} exists without a length limit, so it is kept as it is; delete it once (it is declared again with x-max-length {MaxLength}) or set a max-length policy")]
    private static partial void LogUnboundedDeadLetterQueue(ILogger logger, string queue, int maxLength);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained {Count} messages from {Queue}; the sweeper republishes the tasks still owed one")]
    private static partial void LogDrained(ILogger logger, int count, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a queue message that is not a task message (moved to the dead-letter queue)")]
    private static partial void LogMalformed(ILogger logger);
}
