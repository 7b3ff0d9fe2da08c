using System.Collections.Concurrent;
using AudioConverter.Core.Queue;

namespace AudioConverter.Tests.Contracts;

/// <summary>What every task queue must do; each adapter runs these against its real broker, one queue per test.</summary>
public abstract class TaskQueueContract : IAsyncLifetime
{
    private readonly List<ITaskQueue> created = [];

    /// <summary>A client of this test's queue; two clients of one test share the queue like two processes would.</summary>
    protected abstract Task<ITaskQueue> ConnectAsync();

    /// <summary>Whether the broker reports redeliveries in DeliveryCount.</summary>
    protected virtual bool CountsDeliveries => true;

    protected static TimeSpan Patience => TimeSpan.FromSeconds(20);

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
        await queue.PublishAsync(2, default);
        var second = await ReceiveAsync(queue);
        Assert.Equal(2, second.TaskId);
        await second.AckAsync(default);
    }

    [Fact]
    public async Task NackWithRequeueDeliversTheMessageAgain()
    {
        var queue = await NewClientAsync();
        await queue.PublishAsync(77, default);
        var first = await ReceiveAsync(queue);
        await first.NackAsync(requeue: true, default);
        var again = await ReceiveAsync(queue);
        Assert.Equal(77, again.TaskId);
        if (CountsDeliveries)
        {
            Assert.Equal(2, again.DeliveryCount);
        }

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
    public async Task KeepingAMessageAliveSucceeds()
    {
        var queue = await NewClientAsync();
        await queue.PublishAsync(5, default);
        var delivery = await ReceiveAsync(queue);
        await delivery.KeepAliveAsync(default);
        await delivery.AckAsync(default);
    }

    [Fact]
    public async Task QueueSaysItIsReady()
    {
        var queue = await NewClientAsync();
        Assert.True(await queue.IsReadyAsync(default));
    }

    protected static async Task<IQueueDelivery> ReceiveAsync(ITaskQueue queue)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await queue.ReceiveAsync(timeout.Token);
    }
}
