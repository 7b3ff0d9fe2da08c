using AudioConverter.Core.Queue;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Tests.Faults;

namespace AudioConverter.Tests.Contracts;

/// <summary>The Pub/Sub adapter against the emulator's REST API, one topic and subscription per test.</summary>
public sealed class PubSubTaskQueueTests : TaskQueueContract
{
    private readonly PubSubOptions options = ExternalServices.PubSub(ExternalServices.UniqueName("ac"));

    // AckDeadlineSeconds is 10 in the tests.
    protected override TimeSpan RedeliveryDeadline => TimeSpan.FromSeconds(10);

    protected override async Task<ITaskQueue> ConnectAsync()
    {
        var queue = ExternalServices.PubSubQueue(options);
        await queue.SetUpAsync(default);
        return queue;
    }

    public override async Task DisposeAsync()
    {
        using (var cleanup = ExternalServices.PubSubQueue(options))
        {
            await cleanup.DeleteResourcesAsync(default);
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task UnacknowledgedMessageComesBackAfterItsDeadlineUnlessKeptAlive()
    {
        var queue = await NewClientAsync();
        await queue.PublishAsync(31, default);
        var held = await ReceiveAsync(queue);
        Assert.Equal(31, held.TaskId);

        // The deadline is 10 s in the tests: neither acked nor kept alive, the message is delivered again.
        var again = await ReceiveAsync(queue);
        Assert.Equal(31, again.TaskId);
        await again.AckAsync(default);
    }

    [Fact]
    public async Task AWorkerWhoseSubscriptionWasDeletedIsNotReadyThenMakesItAgainAndTakesWork()
    {
        var worker = await NewClientAsync();
        await worker.PublishAsync(41, default);
        await (await ReceiveAsync(worker)).AckAsync(default);
        Assert.True(await worker.IsReadyAsync(default));

        using (var admin = ExternalServices.PubSubQueue(options))
        {
            await admin.DeleteResourcesAsync(default);
        }

        Assert.False(await worker.IsReadyAsync(default));

        // The old pull loop retried the missing subscription for ever; now its first failed pull creates it again.
        var receiving = worker.ReceiveAsync(default);
        await Deadline.UntilAsync(() => worker.IsReadyAsync(default), Patience, "the subscription to exist again");
        var publisher = await NewClientAsync();
        await publisher.PublishAsync(42, default);
        var delivery = await receiving.WaitAsync(Patience);
        Assert.Equal(42, delivery.TaskId);
        await delivery.AckAsync(default);
    }

    [Fact]
    public async Task MessagesGivenUpOnAreDrainedFromTheDeadLetterTopicToTaskIds()
    {
        options.DeadLetterTopic = options.Topic + "-dead";
        var queue = (PubSubTaskQueue)await NewClientAsync();
        foreach (var id in new long[] { 51, 52 })
        {
            await queue.PublishAsync(id, default);
            await (await ReceiveAsync(queue)).NackAsync(requeue: false, default);
        }

        var drained = new List<long>();
        await Deadline.UntilAsync(async () =>
        {
            drained.AddRange(await queue.DrainDeadLettersAsync(100, default));
            return drained.Count >= 2;
        }, Patience, "both dead letters to be drained");
        Assert.Equal([51L, 52L], drained.Order());
        Assert.Empty(await queue.DrainDeadLettersAsync(100, default));
    }

    [Fact]
    public async Task PublishingToAnUnreachableEmulatorThrows()
    {
        var unreachable = ExternalServices.PubSub("unreachable");
        unreachable.EmulatorHost = "127.0.0.1:9";
        using var queue = ExternalServices.PubSubQueue(unreachable);
        // Nothing listens on port 9: the connection is refused (an HTTP failure, not a time-out or a cancellation).
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => queue.PublishAsync(1, default));
        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.False(await queue.IsReadyAsync(default));
    }
}
