using System.Collections.Concurrent;
using AudioConverter.Core.Queue;

namespace AudioConverter.Tests.Contracts;

/// <summary>What every task queue must do; each adapter runs these against its real broker, one queue per test.</summary>
public abstract class TaskQueueContract : IAsyncLifetime
{
    private readonly List<ITaskQueue> created = [];

    /// <summary>A client of this test's queue; two clients of one test share the queue like two processes would.</summary>
    protected abstract Task<ITaskQueue> ConnectAsync();

    protected static TimeSpan Patience => TimeSpan.FromSeconds(20);

    /// <summary>How long an unsettled message stays with its consumer before the broker gives it to another (zero: until the consumer closes).</summary>
    protected virtual TimeSpan RedeliveryDeadline => TimeSpan.Zero;

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var queue in created)
        {
            switch (queue)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    protected async Task<ITaskQueue> NewClientAsync()
    {
        var queue = await ConnectAsync();
        created.Add(queue);
        return queue;
    }

    [Fact]
    public async Task PublishedTaskIdIsReceived()
    {
        var queue = await NewClientAsync();
        await queue.PublishAsync(4242, default);
        var delivery = await ReceiveAsync(queue);
        Assert.Equal(4242, delivery.TaskId);
        Assert.Equal(1, delivery.DeliveryCount);
        await delivery.AckAsync(default);
    }

    [Fact]
    public async Task AcknowledgedMessageIsNotDeliveredAgain()
    {
        var queue = await NewClientAsync();
        await queue.PublishAsync(1, default);
        var first = await ReceiveAsync(queue);
        await first.AckAsync(default);

        // Closing the client returns whatever it did not settle (at once on RabbitMQ, after the ack deadline on
        // Pub/Sub): an ack that did nothing would bring message 1 back to the next client within the window.
        await CloseAsync(queue);
        var next = await NewClientAsync();
        Assert.Null(await ReceiveWithinAsync(next, RedeliveryDeadline + TimeSpan.FromSeconds(3)));

        await next.PublishAsync(2, default);
        var second = await ReceiveAsync(next);
        Assert.Equal(2, second.TaskId);
        await second.AckAsync(default);
    }

    [Fact]
    public async Task NackWithRequeueDeliversTheMessageAgainWithoutCountingAFailedDelivery()
    {
        var queue = await NewClientAsync();
        await queue.PublishAsync(77, default);
        var first = await ReceiveAsync(queue);
        await first.NackAsync(requeue: true, default);
        var again = await ReceiveAsync(queue);
        Assert.Equal(77, again.TaskId);

        // Handing back is what a worker does when it could not look at the task: it must not bring the message closer to the dead-letter queue.
        Assert.Equal(1, again.DeliveryCount);
        await again.AckAsync(default);
    }

    [Fact]
    public async Task ReceiveWaitsUntilAMessageIsPublished()
    {
        var queue = await NewClientAsync();
        var receiving = queue.ReceiveAsync(default);
        var early = await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromMilliseconds(700)));
        Assert.NotSame(receiving, early);

        var publisher = await NewClientAsync();
        await publisher.PublishAsync(9, default);
        var delivery = await receiving.WaitAsync(Patience);
        Assert.Equal(9, delivery.TaskId);
        await delivery.AckAsync(default);
    }

    [Fact]
    public async Task CompetingConsumersReceiveEveryMessageExactlyOnce()
    {
        var publisher = await NewClientAsync();
        var consumers = new[] { await NewClientAsync(), await NewClientAsync() };
        const int count = 60;
        await Task.WhenAll(Enumerable.Range(1, count).Select(id => publisher.PublishAsync(id, default)));

        var seen = new ConcurrentDictionary<long, int>();
        var perConsumer = new int[consumers.Length];
        using var done = new CancellationTokenSource(Patience);
        var loops = consumers.SelectMany((consumer, index) => Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (seen.Count < count)
            {
                IQueueDelivery delivery;
                try
                {
                    delivery = await consumer.ReceiveAsync(done.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                seen.AddOrUpdate(delivery.TaskId, 1, (_, n) => n + 1);
                Interlocked.Increment(ref perConsumer[index]);
                await delivery.AckAsync(default);
                if (seen.Count == count)
                {
                    await done.CancelAsync();
                }
            }
        }))).ToArray();
        await Task.WhenAll(loops);

        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), seen.Keys.Order());
        Assert.All(seen, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(count, perConsumer.Sum());
    }

    [Fact]
    public async Task AMessageKeptAlivePastItsDeadlineIsNotDeliveredToAnotherConsumer()
    {
        var holder = await NewClientAsync();
        var other = await NewClientAsync();
        await holder.PublishAsync(5, default);
        var delivery = await ReceiveAsync(holder);

        // Held for one and a half deadlines, kept alive three times a deadline: without keep-alive the other consumer would get it.
        var hold = RedeliveryDeadline == TimeSpan.Zero ? TimeSpan.FromSeconds(2) : RedeliveryDeadline * 1.5;
        using var holding = new CancellationTokenSource(hold);
        var keepingAlive = Task.Run(async () =>
        {
            var period = RedeliveryDeadline == TimeSpan.Zero ? TimeSpan.FromMilliseconds(500) : RedeliveryDeadline / 3;
            while (!holding.IsCancellationRequested)
            {
                await delivery.KeepAliveAsync(default);
                await Task.Delay(period, holding.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
        var stolen = await ReceiveWithinAsync(other, hold);
        await keepingAlive;
        Assert.Null(stolen);
        await delivery.AckAsync(default);
    }

    [Fact]
    public async Task QueueSaysItIsReady()
    {
        var queue = await NewClientAsync();
        Assert.True(await queue.IsReadyAsync(default));
    }

    /// <summary>Closes one client as a stopping process would: its unsettled messages go back to the broker.</summary>
    protected async Task CloseAsync(ITaskQueue queue)
    {
        if (created.Remove(queue))
        {
            switch (queue)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    /// <summary>The next delivery, or null when none arrives within <paramref name="window"/>.</summary>
    protected static async Task<IQueueDelivery?> ReceiveWithinAsync(ITaskQueue queue, TimeSpan window)
    {
        using var timeout = new CancellationTokenSource(window);
        try
        {
            return await queue.ReceiveAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return null;
        }
    }

    protected static async Task<IQueueDelivery> ReceiveAsync(ITaskQueue queue)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await queue.ReceiveAsync(timeout.Token);
    }
}
