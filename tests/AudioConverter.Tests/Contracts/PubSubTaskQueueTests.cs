using AudioConverter.Core.Queue;
using AudioConverter.Infrastructure.Queue;

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
    public async Task PublishingToAnUnreachableEmulatorThrows()
    {
        var unreachable = ExternalServices.PubSub("unreachable");
        unreachable.EmulatorHost = "127.0.0.1:9";
        using var queue = ExternalServices.PubSubQueue(unreachable);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => queue.PublishAsync(1, default));
        Assert.IsNotAssignableFrom<OperationCanceledException>(error);
        Assert.False(await queue.IsReadyAsync(default));
    }
}
