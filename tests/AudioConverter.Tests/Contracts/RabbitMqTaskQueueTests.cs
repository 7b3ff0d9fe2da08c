using AudioConverter.Core.Queue;
using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Queue;
using Microsoft.Extensions.Logging.Abstractions;

namespace AudioConverter.Tests.Contracts;

/// <summary>The RabbitMQ adapter against a real broker, one queue per test.</summary>
public sealed class RabbitMqTaskQueueTests : TaskQueueContract
{
    private readonly string queueName = ExternalServices.UniqueName("ac-test");

    protected override async Task<ITaskQueue> ConnectAsync()
    {
        var queue = new RabbitMqTaskQueue(ExternalServices.Rabbit(queueName), 2, NullLogger<RabbitMqTaskQueue>.Instance);
        await queue.SetUpAsync(default);
        return queue;
    }

    [Fact]
    public async Task NackWithoutRequeueMovesTheMessageToTheDeadLetterQueue()
    {
        var queue = (RabbitMqTaskQueue)await NewClientAsync();
        await queue.PublishAsync(13, default);
        var delivery = await ReceiveAsync(queue);
        await delivery.NackAsync(requeue: false, default);
        await WaitForAsync(async () => (await queue.CountAsync(default)).Dead == 1);
        Assert.Equal((0u, 1u), await queue.CountAsync(default));
    }

    [Fact]
    public async Task MessageThatKeepsFailingIsDeadLetteredAfterTheDeliveryLimit()
    {
        var queue = (RabbitMqTaskQueue)await NewClientAsync();
        await queue.PublishAsync(21, default);

        // DeliveryLimit is 3 in the tests: three returns are allowed, the fourth moves the message aside.
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var delivery = await ReceiveAsync(queue);
            Assert.Equal(attempt, delivery.DeliveryCount);
            await delivery.NackAsync(requeue: true, default);
        }

        await WaitForAsync(async () => (await queue.CountAsync(default)).Dead == 1);
    }

    [Fact]
    public async Task PublishingToAnUnreachableBrokerThrows()
    {
        var options = ExternalServices.Rabbit(queueName);
        options.Uri = "amqp://guest:guest@127.0.0.1:9/";
        await using var queue = new RabbitMqTaskQueue(options, 1, NullLogger<RabbitMqTaskQueue>.Instance);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => queue.PublishAsync(1, default));
        Assert.IsNotAssignableFrom<OperationCanceledException>(error);
        Assert.False(await queue.IsReadyAsync(default));
    }

    [Fact]
    public async Task WrongCredentialsAreReportedByTheStartUpCheck()
    {
        var options = ExternalServices.Rabbit(queueName);
        options.Uri = new UriBuilder(options.Uri) { UserName = "nobody", Password = "wrong" }.Uri.ToString();
        await using var queue = new RabbitMqTaskQueue(options, 1, NullLogger<RabbitMqTaskQueue>.Instance);
        await Assert.ThrowsAnyAsync<Exception>(() => queue.SetUpAsync(default));
        Assert.False(await queue.IsReadyAsync(default));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true before the deadline");
            await Task.Delay(50);
        }
    }
}
